"""The notifier: pending notifications become outbox rows from the enterprise's number, in
the reader's language, marked queued in the same transaction; quiet hours hold the
non-urgent ones; approval requests get the WAP link when a link maker is given."""
from __future__ import annotations

from datetime import datetime, time

import pytest
from sqlalchemy import select

from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.messaging_models import Outbox
from erpcore.notifications import StoredNotification
from gateway.pipeline.notifier import Notifier, QuietHours
from tests.pipeline.conftest import request_approval

NOON_BEIJING = datetime(2024, 3, 5, 4, 0)  # 12:00 at UTC+8
NIGHT_BEIJING = datetime(2024, 3, 5, 15, 0)  # 23:00 at UTC+8


@pytest.mark.parametrize("start, end, hour, quiet", [
    ("22:00", "08:00", 23, True), ("22:00", "08:00", 7, True), ("22:00", "08:00", 8, False),
    ("22:00", "08:00", 12, False), ("12:00", "14:00", 13, True), ("00:00", "00:00", 3, False),
])
def test_quiet_hours_in_local_time(start, end, hour, quiet):
    utc = datetime(2024, 3, 5, (hour - 8) % 24, 30)
    assert QuietHours.parse(start, end, 8).active(utc) is quiet


def test_a_bad_quiet_time_is_refused():
    with pytest.raises(ValueError):
        QuietHours.parse("25:00", "08:00")


def run(sessionmaker, notifier, now):
    with session_scope(sessionmaker) as session:
        return notifier.queue_batch(session, now)


def sent(sessionmaker):
    with session_scope(sessionmaker) as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.id))
        return [(r.sender, r.recipient, r.text) for r in rows]


def states(sessionmaker):
    with session_scope(sessionmaker) as session:
        return [n.state for n in session.scalars(select(StoredNotification).order_by(StoredNotification.id))]


def test_pending_notifications_go_to_the_outbox_once(sessionmaker, stored):
    notifier = Notifier(None, None, "1065712345")
    assert run(sessionmaker, notifier, NOON_BEIJING) == 2
    assert run(sessionmaker, notifier, NOON_BEIJING) == 0
    assert sent(sessionmaker) == [
        ("106571234501", "13800000001", "新任务#1"),  # urgent first
        ("106571234501", "13800000002", "To approve 1001"),
    ]
    assert states(sessionmaker) == ["queued", "queued"]


def test_quiet_hours_hold_what_is_not_urgent_until_morning(sessionmaker, stored):
    notifier = Notifier(None, None, "1065712345", quiet=QuietHours(time(22), time(8), 8))
    assert run(sessionmaker, notifier, NIGHT_BEIJING) == 1
    assert states(sessionmaker) == ["pending", "queued"]
    assert run(sessionmaker, notifier, NOON_BEIJING) == 1
    assert states(sessionmaker) == ["queued", "queued"]


def test_an_approval_request_carries_the_link(sessionmaker, stored):
    calls = []

    def link(enterprise_id, number):
        calls.append(number)
        return f"http://w.example/wap/doc/{number}?sig=xyz"

    notifier = Notifier(None, None, "1065712345", approval_link=link)
    run(sessionmaker, notifier, NOON_BEIJING)
    texts = [text for _s, _r, text in sent(sessionmaker)]
    assert texts == ["新任务#1", "To approve 1001 http://w.example/wap/doc/1001?sig=xyz"]
    assert calls == ["1001"], "the link names the order by the number people type"


def test_a_long_notification_is_cut_to_three_sms_keeping_the_link_whole(sessionmaker):
    from commands.length import parts_needed

    link = "http://w.example/wap/doc/1001?exp=1795569581&sig=4ae1083fa74952b2a549d126d8971e94"
    with session_scope(sessionmaker) as session:
        request_approval(session, seed_demo(session), "To approve: order 1001 by " + "欧阳" * 200)
    notifier = Notifier(None, None, "1065712345", approval_link=lambda _enterprise, _number: link)
    run(sessionmaker, notifier, NOON_BEIJING)
    parts = [text for _sender, _recipient, text in sent(sessionmaker)]
    text = "".join(parts)
    assert len(parts) == 3 and parts_needed(text) == 3 and text.startswith("To approve: order 1001 by 欧阳")
    assert text.endswith("… " + link)
