"""The notifier reads a batch's readers (enterprises, users, the orders approval requests
link to) once per batch, not once per notification, and writes the same SMS as before:
each reader's language, the enterprise's number, the WAP link, deactivated readers too."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, select

from erpcore import events, notifications
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.messaging_models import Outbox
from erpcore.users import User
from gateway.pipeline.notifier import Notifier
from tests.pipeline.conftest import request_approval

NOON_BEIJING = datetime(2024, 3, 5, 4, 0)


@pytest.fixture
def many(sessionmaker):
    """Three approval requests to the manager (English) and two task notices to the clerk
    (Chinese), one of them with no user (the enterprise's language, Chinese)."""
    with session_scope(sessionmaker) as session:
        enterprise = seed_demo(session)
        for _ in range(3):
            request_approval(session, enterprise)
        clerk = session.scalars(select(User).where(User.msisdn == "13800000001")).one()
        notifications.notify(session, events.Notification(
            enterprise.id, "13800000001", "新任务#1", "New task #1", user_id=clerk.id, key="task:1"))
        notifications.notify(session, events.Notification(
            enterprise.id, "13800000001", "新任务#2", "New task #2", key="task:2"))


def selects_from(engine, tables):
    """Counts the SELECTs whose FROM names each of ``tables`` while the block runs."""
    counts = dict.fromkeys(tables, 0)

    def seen(_conn, _cursor, statement, _params, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            head = statement.split(" WHERE ")[0]
            for table in tables:
                if f"FROM {table}" in head:
                    counts[table] += 1

    event.listen(engine, "before_cursor_execute", seen)
    return counts, lambda: event.remove(engine, "before_cursor_execute", seen)


def texts(sessionmaker):
    with session_scope(sessionmaker) as session:
        return [(r.sender, r.recipient, r.text) for r in session.scalars(select(Outbox).order_by(Outbox.id))]


def link(_enterprise_id, number):
    return f"http://w.example/wap/doc/{number}"


def test_a_batch_reads_its_enterprises_users_and_orders_once(engine, sessionmaker, many):
    notifier = Notifier(None, None, "1065712345", approval_link=link)
    with session_scope(sessionmaker) as session:  # the quiet-hour settings, read every 30 s
        notifier._own_quiet_hours(session, NOON_BEIJING)
    counts, stop = selects_from(engine, ("enterprises", "users", "orders"))
    try:
        with session_scope(sessionmaker) as session:
            assert notifier.queue_batch(session, NOON_BEIJING) == 5
    finally:
        stop()
    assert counts == {"enterprises": 1, "users": 1, "orders": 1}


def test_a_batch_writes_each_reader_in_their_language_with_the_link(sessionmaker, many):
    notifier = Notifier(None, None, "1065712345", approval_link=link)
    with session_scope(sessionmaker) as session:
        notifier.queue_batch(session, NOON_BEIJING)
    assert texts(sessionmaker) == [
        ("106571234501", "13800000002", "To approve 1001 http://w.example/wap/doc/1001"),
        ("106571234501", "13800000002", "To approve 1002 http://w.example/wap/doc/1002"),
        ("106571234501", "13800000002", "To approve 1003 http://w.example/wap/doc/1003"),
        ("106571234501", "13800000001", "新任务#1"),
        ("106571234501", "13800000001", "新任务#2"),
    ]


def test_a_deactivated_reader_is_still_written_to_in_their_language(sessionmaker, many):
    with session_scope(sessionmaker) as session:
        session.scalars(select(User).where(User.msisdn == "13800000002")).one().active = False
    with session_scope(sessionmaker) as session:
        Notifier(None, None, "1065712345").queue_batch(session, NOON_BEIJING)
    assert [text for _s, _r, text in texts(sessionmaker)][:3] == [
        "To approve 1001", "To approve 1002", "To approve 1003"]


def test_one_notification_on_its_own_reads_the_same(sessionmaker, many):
    notifier = Notifier(None, None, "1065712345", approval_link=link)
    with session_scope(sessionmaker) as session:
        row = notifications.pending(session, 1)[0]
        parts = notifier.parts_for(session, row)
    assert [(p.sender, p.recipient, p.text) for p in parts] == [
        ("106571234501", "13800000002", "To approve 1001 http://w.example/wap/doc/1001")]
