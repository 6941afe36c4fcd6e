"""Deferred writes (erpcore.deferred): while a session is deferring, audit entries and
notifications are queued and written one statement per table — at a flush, before the
outermost commit, before erpcore reads those tables — and a savepoint that rolls back
takes the rows queued inside it. A notification's key is still stored once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from erpcore import audit, deferred, events, notifications
from erpcore.audit import AuditEntry
from erpcore.db import session_scope
from erpcore.notifications import StoredNotification
from tests.erpcore.documents_helpers import build_world


def entry(session, world, name: str) -> None:
    trail = audit.Trail(session, world.demo)
    trail.add(None, "test.entry", "thing", name, None, {"name": name})
    trail.write()


def note(world, key: str | None, text: str = "hello") -> events.Notification:
    return events.Notification(world.demo, "13800000003", text, text, world.users["wang"], key=key)


def entries(session) -> list[str]:
    return [e.entity_id for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "test.entry").order_by(AuditEntry.id))]


def stored(session) -> list[tuple]:
    return [(n.key, n.text_en) for n in session.scalars(
        select(StoredNotification).order_by(StoredNotification.id))]


def inserts(seen: list[str], table: str) -> int:
    return sum(s.startswith(f"INSERT INTO {table}") for s in seen)


def test_queued_audit_entries_and_notifications_are_written_one_statement_per_table(
        session, world, statements):
    with deferred.deferring(session):
        for n in range(5):
            entry(session, world, f"e{n}")
            assert notifications.notify(session, note(world, f"k{n}")) is not None
    assert (inserts(statements, "audit_log"), inserts(statements, "notifications")) == (0, 0)
    assert deferred.pending(session) == 10
    deferred.flush(session)
    assert (inserts(statements, "audit_log"), inserts(statements, "notifications")) == (1, 1)
    assert entries(session) == [f"e{n}" for n in range(5)]
    assert stored(session) == [(f"k{n}", "hello") for n in range(5)]


def test_without_the_mode_a_trail_is_written_at_once(session, world, statements):
    entry(session, world, "now")
    assert inserts(statements, "audit_log") == 1 and deferred.pending(session) == 0


def test_the_outermost_commit_writes_what_is_queued(seeded):
    with session_scope(seeded) as session:
        world = build_world(session)
    with session_scope(seeded) as session:
        with deferred.deferring(session):
            entry(session, world, "committed")
            notifications.notify(session, note(world, "k-commit"))
            with session.begin_nested():  # a savepoint released while deferring writes nothing yet
                pass
            assert deferred.pending(session) == 2
    with session_scope(seeded) as session:
        assert entries(session) == ["committed"] and stored(session) == [("k-commit", "hello")]


def test_a_rolled_back_transaction_writes_nothing_queued_and_leaves_no_queue(seeded):
    with session_scope(seeded) as session:
        world = build_world(session)
    session = seeded()
    with deferred.deferring(session):
        entry(session, world, "lost")
    session.rollback()
    assert deferred.pending(session) == 0
    session.commit()
    session.close()
    with session_scope(seeded) as session:
        assert entries(session) == []


def test_rows_queued_in_a_savepoint_that_rolls_back_are_dropped(session, world):
    with deferred.deferring(session):
        entry(session, world, "before")
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                entry(session, world, "inside")
                notifications.notify(session, note(world, "k-sp"))
                with session.begin_nested():  # released, then goes with its parent
                    entry(session, world, "inner")
                raise RuntimeError("the command failed")
        with session.begin_nested():
            entry(session, world, "kept")
        # The key queued in the rolled-back savepoint is free again.
        assert notifications.notify(session, note(world, "k-sp", "again")) is not None
    deferred.flush(session)
    assert entries(session) == ["before", "kept"]
    assert stored(session) == [("k-sp", "again")]


def test_drop_since_forgets_what_came_after_the_mark(session, world):
    with deferred.deferring(session):
        entry(session, world, "first")
        notifications.notify(session, note(world, "k-mark"))
        mark = deferred.mark(session)
        entry(session, world, "refused")
        notifications.notify(session, note(world, "k-refused"))
        deferred.drop_since(session, mark)
        assert notifications.notify(session, note(world, "k-refused", "again")) is not None
    deferred.flush(session)
    assert entries(session) == ["first"]
    assert stored(session) == [("k-mark", "hello"), ("k-refused", "again")]


def test_a_key_is_stored_once_whether_queued_twice_or_stored_before(seeded):
    with session_scope(seeded) as session:
        world = build_world(session)
        assert notifications.notify(session, note(world, "k-old")).id is not None  # at once, committed
    with session_scope(seeded) as session:
        told = notifications.stored_count(session)
        with deferred.deferring(session):
            first = notifications.notify(session, note(world, "k-new", "first"))
            assert first is not None and first.id is None  # queued: no id yet
            assert notifications.notify(session, note(world, "k-new", "second")) is None
            assert notifications.notify(session, note(world, "k-old", "repeat")) is not None
            assert notifications.notify(session, note(world, None, "no key")) is not None
        assert notifications.stored_count(session) == told + 3  # the stored-before key counts too
    with session_scope(seeded) as session:
        assert stored(session) == [("k-old", "hello"), ("k-new", "first"), (None, "no key")]


def test_a_key_a_concurrent_transaction_committed_meanwhile_stores_nothing(seeded):
    with session_scope(seeded) as session:
        world = build_world(session)
    with session_scope(seeded) as session:
        with deferred.deferring(session):
            notifications.notify(session, note(world, "k-race", "mine"))
        with session_scope(seeded) as other:  # commits first (SQLite: before our first write)
            notifications.notify(other, note(world, "k-race", "theirs"))
    with session_scope(seeded) as session:
        assert stored(session) == [("k-race", "theirs")]


def test_the_bulk_insert_skips_duplicate_keys_but_no_other_error(session, world):
    # A row no table would take (no text) must fail, not be stored with a blank (INSERT IGNORE).
    bad = {"enterprise_id": world.demo, "user_id": None, "msisdn": "13800000003", "text_zh": None,
           "text_en": None, "urgent": False, "key": "k-bad", "state": "pending", "created_at": None}
    with deferred.deferring(session):
        deferred.add(session, notifications._SINK, bad)
    with pytest.raises(IntegrityError):
        deferred.flush(session)


def test_erpcore_readers_see_what_is_queued(session, world):
    with deferred.deferring(session):
        entry(session, world, "read-back")
        notifications.notify(session, note(world, "k-read"))
        assert [e.entity_id for e in audit.history(session, world.demo, "thing", "read-back")] == ["read-back"]
        assert [n.key for n in notifications.pending(session)] == ["k-read"]


def test_a_savepoint_released_after_the_mode_ended_writes_what_is_left(session, world, statements):
    with deferred.deferring(session):
        entry(session, world, "left")
    with session.begin_nested():
        pass
    assert deferred.pending(session) == 0 and inserts(statements, "audit_log") == 1


def test_record_writes_the_queued_entries_first_so_ids_keep_the_order_of_calls(session, world):
    with deferred.deferring(session):
        entry(session, world, "queued")
        audit.record(session, world.demo, None, "test.entry", "thing", "recorded", None, None)
    assert entries(session) == ["queued", "recorded"]
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.entity_id == "queued")) == 1
