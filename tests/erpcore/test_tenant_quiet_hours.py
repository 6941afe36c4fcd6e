"""An enterprise's own quiet hours and UTC offset (erpcore.tenants): validated HH:MM and
±HH:MM with errors that say what to write, audited, and NULL meaning the gateway's default."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from erpcore import audit, tenants
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.quiet_hours import InvalidQuietHours, QuietHours, format_utc_offset, parse_utc_offset

DEFAULT = QuietHours.parse("22:00", "08:00", 8)


@pytest.fixture
def demo_id(sessionmaker):
    with session_scope(sessionmaker) as session:
        return seed_demo(session).id


def settings(sessionmaker, enterprise_id):
    with session_scope(sessionmaker) as session:
        return tenants.quiet_settings(session.get(tenants.Enterprise, enterprise_id))


def test_a_new_enterprise_follows_the_gateways_default(sessionmaker, demo_id):
    assert settings(sessionmaker, demo_id) == {"quiet_start": None, "quiet_end": None, "utc_offset": None}
    with session_scope(sessionmaker) as session:
        assert tenants.quiet_hours_of(session.get(tenants.Enterprise, demo_id), DEFAULT) == DEFAULT


def test_own_window_and_offset_are_stored_normalised_and_audited(sessionmaker, demo_id):
    with session_scope(sessionmaker) as session:
        tenants.set_quiet_hours(session, demo_id, " 7:05", "21:30")
        tenants.set_utc_offset(session, demo_id, "+5:45")
    assert settings(sessionmaker, demo_id) == {"quiet_start": "07:05", "quiet_end": "21:30", "utc_offset": "+05:45"}
    with session_scope(sessionmaker) as session:
        window = tenants.quiet_hours_of(session.get(tenants.Enterprise, demo_id), DEFAULT)
        actions = [entry.action for entry in audit.history(session, demo_id, "enterprise", demo_id)]
    assert window == QuietHours(time(7, 5), time(21, 30), 5.75)
    assert actions[-2:] == ["enterprise.quiet_hours", "enterprise.utc_offset"]


def test_none_restores_the_default(sessionmaker, demo_id):
    with session_scope(sessionmaker) as session:
        tenants.set_quiet_hours(session, demo_id, "23:00", "06:00")
        tenants.set_utc_offset(session, demo_id, "-03:00")
    with session_scope(sessionmaker) as session:
        tenants.set_quiet_hours(session, demo_id, None, None)
        tenants.set_utc_offset(session, demo_id, None)
    assert settings(sessionmaker, demo_id) == {"quiet_start": None, "quiet_end": None, "utc_offset": None}


@pytest.mark.parametrize("start, end, says", [
    ("25:00", "08:00", "'25:00' is not a time of day; write HH:MM"),
    ("22:00", "8", "'8' is not a time of day"),
    ("22:60", "08:00", "'22:60' is not a time of day"),
    ("10pm", "08:00", "e.g. 22:00"),
    ("22:00:00", "08:00", "not a time of day"),
    ("22:00", None, "both a start and an end"),
    (None, "08:00", "both a start and an end"),
])
def test_a_bad_window_is_refused_with_what_to_write_and_changes_nothing(sessionmaker, demo_id, start, end, says):
    with pytest.raises(InvalidQuietHours) as refused, session_scope(sessionmaker) as session:
        tenants.set_quiet_hours(session, demo_id, start, end)
    assert says in str(refused.value) and refused.value.code == "tenant.quiet_hours"
    assert settings(sessionmaker, demo_id)["quiet_start"] is None


@pytest.mark.parametrize("offset", ["+15:00", "-12:30", "+05:10", "8h", "", "UTC+8"])
def test_a_bad_offset_is_refused(sessionmaker, demo_id, offset):
    with pytest.raises(InvalidQuietHours, match="from -12:00 to \\+14:00"), session_scope(sessionmaker) as session:
        tenants.set_utc_offset(session, demo_id, offset)
    assert settings(sessionmaker, demo_id)["utc_offset"] is None


def test_an_unknown_enterprise_is_not_found(sessionmaker, demo_id):
    with pytest.raises(tenants.UnknownEnterprise), session_scope(sessionmaker) as session:
        tenants.set_quiet_hours(session, demo_id + 99, "22:00", "07:00")


@pytest.mark.parametrize("text, minutes", [
    ("+08:00", 480), ("8", 480), ("+8", 480), ("-0330", -210), ("5:45", 345), ("+14:00", 840), ("-12:00", -720),
    ("0", 0),
])
def test_offsets_as_people_write_them(text, minutes):
    assert parse_utc_offset(text) == minutes
    assert parse_utc_offset(format_utc_offset(minutes)) == minutes


@pytest.mark.parametrize("start, end, local_hour, quiet", [
    ("22:00", "08:00", 23, True), ("22:00", "08:00", 7, True), ("22:00", "08:00", 8, False),
    ("12:00", "14:00", 13, True), ("12:00", "14:00", 14, False), ("00:00", "00:00", 3, False),
])
def test_a_window_at_a_half_hour_offset(start, end, local_hour, quiet):
    window = QuietHours(time.fromisoformat(start), time.fromisoformat(end), 5.5)
    utc = datetime(2024, 3, 5, local_hour, 10) - timedelta(hours=5, minutes=30)  # local_hour:10 at +05:30
    assert window.active(utc) is quiet
