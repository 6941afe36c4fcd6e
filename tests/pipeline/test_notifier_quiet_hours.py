"""Quiet hours per enterprise: the notifier judges each enterprise by its own window in its
own local time (NULL settings: the gateway's), at the injected clock's instant. One
enterprise's night holds only its own non-urgent notifications, never starves another's,
lets urgent ones through, and releases everything it held once its window ends."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from twisted.internet.task import Clock

from erpcore import events, notifications, tenants
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.messaging_models import Outbox
from erpcore.notifications import StoredNotification
from erpcore.quiet_hours import QuietHours
from erpcore.tenants import Enterprise
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.notifier import Notifier
from tests.pipeline.pipeline_fakes import ImmediatePool, InlineReactor

DEFAULT = QuietHours.parse("22:00", "08:00", 8)  # the gateway's [notify] defaults
NIGHT_BEIJING = datetime(2024, 3, 5, 15, 0)  # 23:00 at UTC+8, 10:00 at UTC-5
NOON_BEIJING = datetime(2024, 3, 5, 4, 0)  # 12:00 at UTC+8, 23:00 the day before at UTC-5
DEMO_PHONE, OTHER_PHONE = "13800000002", "13900000099"


@pytest.fixture
def world(sessionmaker):
    """DEMO keeps the gateway's quiet hours; OTHER exists with no settings yet."""
    with session_scope(sessionmaker) as session:
        seed_demo(session)
        session.add(Enterprise(code="OTHER", name="别家", name_en="Other", extension="02", lang="en"))


def enterprise_id(sessionmaker, code):
    with session_scope(sessionmaker) as session:
        return session.scalars(select(Enterprise.id).where(Enterprise.code == code)).one()


def configure(sessionmaker, code, start=None, end=None, offset=None):
    eid = enterprise_id(sessionmaker, code)
    with session_scope(sessionmaker) as session:
        tenants.set_quiet_hours(session, eid, start, end)
        tenants.set_utc_offset(session, eid, offset)


def notify(sessionmaker, code, msisdn, text, urgent=False):
    eid = enterprise_id(sessionmaker, code)
    with session_scope(sessionmaker) as session:
        notifications.notify(session, events.Notification(eid, msisdn, text, text, urgent=urgent))


def sent(sessionmaker):
    with session_scope(sessionmaker) as session:
        return [row.text for row in session.scalars(select(Outbox).order_by(Outbox.id))]


def pending(sessionmaker):
    with session_scope(sessionmaker) as session:
        return [n.text_en for n in session.scalars(
            select(StoredNotification).where(StoredNotification.state == "pending").order_by(StoredNotification.id))]


def one_pass(sessionmaker, now, batch=200):
    notifier = Notifier(None, None, "1065712345", quiet=DEFAULT, batch=batch)
    with session_scope(sessionmaker) as session:
        return notifier.queue_batch(session, now)


def test_one_enterprise_is_quiet_while_another_is_not_at_the_same_instant(sessionmaker, world):
    configure(sessionmaker, "OTHER", offset="-05:00")  # the default window, in its own local time
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo alert")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo urgent task", urgent=True)
    assert one_pass(sessionmaker, NIGHT_BEIJING) == 2
    assert sent(sessionmaker) == ["demo urgent task", "other alert"]
    assert pending(sessionmaker) == ["demo alert"]


def test_the_other_way_round_at_noon_in_beijing(sessionmaker, world):
    configure(sessionmaker, "OTHER", offset="-05:00")
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo alert")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    assert one_pass(sessionmaker, NOON_BEIJING) == 1
    assert sent(sessionmaker) == ["demo alert"] and pending(sessionmaker) == ["other alert"]


def test_an_enterprise_window_applies_in_the_gateways_local_time_when_it_sets_no_offset(sessionmaker, world):
    configure(sessionmaker, "OTHER", "11:30", "13:00")  # lunch at UTC+8
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo alert")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    assert one_pass(sessionmaker, NOON_BEIJING) == 1
    assert pending(sessionmaker) == ["other alert"]
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo night alert")
    assert one_pass(sessionmaker, NIGHT_BEIJING) == 1  # 23:00: OTHER's own window is over
    assert pending(sessionmaker) == ["demo night alert"]  # while DEMO's (the default) has begun
    assert sent(sessionmaker) == ["demo alert", "other alert"]


def test_equal_start_and_end_mean_no_quiet_hours_for_that_enterprise(sessionmaker, world):
    configure(sessionmaker, "OTHER", "00:00", "00:00")
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo alert")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    assert one_pass(sessionmaker, NIGHT_BEIJING) == 1
    assert sent(sessionmaker) == ["other alert"]


def test_clearing_the_settings_returns_to_the_gateways_default(sessionmaker, world):
    configure(sessionmaker, "OTHER", "00:00", "00:00", "-05:00")
    configure(sessionmaker, "OTHER")  # None everywhere: the default again
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    assert one_pass(sessionmaker, NIGHT_BEIJING) == 0
    assert pending(sessionmaker) == ["other alert"]


def test_a_quiet_enterprises_backlog_never_starves_another(sessionmaker, world):
    """Ten held DEMO alerts, older than OTHER's, and a batch of three: OTHER's still go."""
    configure(sessionmaker, "OTHER", offset="-05:00")
    for n in range(10):
        notify(sessionmaker, "DEMO", DEMO_PHONE, f"demo alert {n}")
    for n in range(4):
        notify(sessionmaker, "OTHER", OTHER_PHONE, f"other alert {n}")
    assert one_pass(sessionmaker, NIGHT_BEIJING, batch=3) == 3
    assert one_pass(sessionmaker, NIGHT_BEIJING, batch=3) == 1
    assert one_pass(sessionmaker, NIGHT_BEIJING, batch=3) == 0
    assert sent(sessionmaker) == [f"other alert {n}" for n in range(4)]
    assert len(pending(sessionmaker)) == 10


def test_held_notifications_go_when_the_window_ends_and_none_is_lost(sessionmaker, world):
    """The running notifier on a task.Clock: at 23:00 Beijing DEMO's alerts wait, OTHER's
    (at UTC-5, mid-morning) go; its polls at 08:00 Beijing send the held ones, each once."""
    configure(sessionmaker, "OTHER", offset="-05:00")
    clock = Clock()
    clock.advance(NIGHT_BEIJING.replace(tzinfo=timezone.utc).timestamp())
    worker = DbWorker(sessionmaker, InlineReactor(), pool=ImmediatePool())
    notifier = Notifier(worker, clock, "1065712345", quiet=DEFAULT, poll_interval=60, batch=2)
    for n in range(3):
        notify(sessionmaker, "DEMO", DEMO_PHONE, f"demo alert {n}")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    notifier.startService()
    try:
        assert sent(sessionmaker) == ["other alert"]
        clock.advance(8 * 3600)  # 07:00 Beijing: still quiet
        assert pending(sessionmaker) == [f"demo alert {n}" for n in range(3)]
        clock.advance(3600)  # 08:00 Beijing: the window is over
    finally:
        notifier.stopService()
    assert sent(sessionmaker) == ["other alert"] + [f"demo alert {n}" for n in range(3)]
    assert pending(sessionmaker) == [] and notifier.queued == 4


def test_urgent_notifications_go_at_once_in_every_enterprises_quiet_hours(sessionmaker, world):
    configure(sessionmaker, "OTHER", "00:00", "23:59", "+14:00")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    notify(sessionmaker, "OTHER", OTHER_PHONE, "other task", urgent=True)
    notify(sessionmaker, "DEMO", DEMO_PHONE, "demo task", urgent=True)
    assert one_pass(sessionmaker, NIGHT_BEIJING) == 2
    assert sent(sessionmaker) == ["other task", "demo task"]


def test_a_changed_setting_applies_within_the_settings_ttl(sessionmaker, world):
    """The notifier reads the enterprises' own settings at most every SETTINGS_TTL (a pass
    runs after every dispatcher batch); a change shows once that has passed."""
    from datetime import timedelta

    from gateway.pipeline.notifier import SETTINGS_TTL

    notifier = Notifier(None, None, "1065712345", quiet=DEFAULT)

    def one(now):
        with session_scope(sessionmaker) as session:
            return notifier.queue_batch(session, now)

    notify(sessionmaker, "OTHER", OTHER_PHONE, "other alert")
    assert one(NIGHT_BEIJING) == 0  # OTHER follows the default: quiet
    configure(sessionmaker, "OTHER", offset="-05:00")  # mid-morning there
    assert one(NIGHT_BEIJING + timedelta(seconds=1)) == 0  # the settings read a second ago hold
    assert one(NIGHT_BEIJING + SETTINGS_TTL + timedelta(seconds=1)) == 1
    assert sent(sessionmaker) == ["other alert"]
