"""Dispatcher: business change, reply, log and 'done' commit together or not at all."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert

from erpcore import inbox, outbox
from erpcore.messaging_models import CommandLog, Inbox, InboxSeenPart, Outbox
from gateway.messages import InboundSms
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.dispatcher import ERROR_REPLY, Dispatcher
from gateway.text import split
from tests.pipeline.pipeline_fakes import ImmediatePool, InlineReactor, Outcome, echo_handle


def store(sessionmaker, now, *texts):
    with sessionmaker.begin() as session:
        inbox.store(session, [
            InboundSms(link="smsc1", sender="13800000001", recipient="106571234501",
                       text=t, smsc_id=f"id{i}") for i, t in enumerate(texts)
        ], now)


def make_dispatcher(sessionmaker, clock, handle=echo_handle, **kw):
    worker = DbWorker(sessionmaker, InlineReactor(), pool=ImmediatePool())
    queued = []
    d = Dispatcher(worker, clock, "1065712345", handle=handle, split=split,
                   on_queued=lambda: queued.append(True), **kw)
    return d, queued


def business_change(session, marker):
    """A marker row standing for the command's business write."""
    session.execute(insert(InboxSeenPart.__table__),
                    [dict(link="business", smsc_id=marker, seen_at=datetime(2024, 1, 1))])


def test_reply_log_and_done_are_written_together(sessionmaker, clock, rows, now):
    store(sessionmaker, now, "STOCK X100")
    dispatcher, queued = make_dispatcher(sessionmaker, clock)
    dispatcher.wake()
    (reply,) = rows(Outbox)
    (mo,) = rows(Inbox)
    assert reply["text"] == "ok STOCK X100" and reply["inbox_id"] == mo["id"]
    # the reply goes back from the address the handset texted, to the handset
    assert (reply["sender"], reply["recipient"]) == ("106571234501", "13800000001")
    assert reply["state"] == "queued" and reply["coding"] == "gsm7"
    assert mo["state"] == "done"
    assert [(r["inbox_id"], r["command"], r["ok"]) for r in rows(CommandLog)] == [
        (mo["id"], "echo", True)]
    assert queued == [True]


def test_a_command_that_raises_leaves_nothing_but_a_busy_reply(sessionmaker, clock, rows,
                                                               now):
    def broken(session, sms, code):
        business_change(session, "half-done")
        raise RuntimeError("bug in a command")

    store(sessionmaker, now, "ORDER X100 5")
    dispatcher, _ = make_dispatcher(sessionmaker, clock, handle=broken)
    dispatcher.wake()
    assert rows(InboxSeenPart) == []  # the business change was rolled back
    assert [r["text"] for r in rows(Outbox)] == [ERROR_REPLY]
    assert [(r["command"], r["ok"]) for r in rows(CommandLog)] == [("error", False)]
    assert [r["state"] for r in rows(Inbox)] == ["done"]  # never a stuck MO
    assert dispatcher.command_errors == 1


def test_one_failing_mo_does_not_disturb_its_batch(sessionmaker, clock, rows, now):
    def picky(session, sms, code):
        if sms.text == "bad":
            raise ValueError("no")
        business_change(session, sms.text)
        return Outcome(reply=f"ok {sms.text}")

    store(sessionmaker, now, "one", "bad", "two")
    dispatcher, _ = make_dispatcher(sessionmaker, clock, handle=picky)
    dispatcher.wake()
    assert sorted(r["smsc_id"] for r in rows(InboxSeenPart)) == ["one", "two"]
    assert [r["text"] for r in rows(Outbox)] == ["ok one", ERROR_REPLY, "ok two"]
    assert [r["ok"] for r in rows(CommandLog)] == [True, False, True]


def test_a_failing_enqueue_rolls_back_the_business_change(sessionmaker, clock, rows, now,
                                                          monkeypatch):
    def changing(session, sms, code):
        business_change(session, "order")
        return Outcome(reply="ordered")

    def broken_enqueue(*args, **kw):
        raise RuntimeError("outbox write failed")

    monkeypatch.setattr(outbox, "enqueue", broken_enqueue)
    store(sessionmaker, now, "ORDER X100 5")
    dispatcher, _ = make_dispatcher(sessionmaker, clock, handle=changing)
    dispatcher.wake()
    # nothing half-done: no business change, no reply, no log, MO not done
    assert rows(InboxSeenPart) == [] and rows(Outbox) == [] and rows(CommandLog) == []
    assert [r["state"] for r in rows(Inbox)] == ["processing"]  # retried after its lease


def test_an_mo_whose_reply_cannot_be_queued_is_answered_busy(sessionmaker, clock, rows, now,
                                                             monkeypatch):
    """The outbox refuses this MO's reply (but not the 'busy' one): its business change
    is rolled back, it is answered 'busy' and done; the other MOs of the batch are not
    disturbed."""
    real = outbox.enqueue

    def refuses_ordered(session, parts, when):
        if any(p.text == "ordered" for p in parts):
            raise RuntimeError("outbox write failed")
        return real(session, parts, when)

    def changing(session, sms, code):
        business_change(session, sms.text)
        return Outcome(reply="ordered" if sms.text == "ORDER X100 5" else f"ok {sms.text}")

    monkeypatch.setattr(outbox, "enqueue", refuses_ordered)
    store(sessionmaker, now, "one", "ORDER X100 5", "two")
    dispatcher, _ = make_dispatcher(sessionmaker, clock, handle=changing)
    dispatcher.wake()
    assert sorted(r["smsc_id"] for r in rows(InboxSeenPart)) == ["one", "two"]
    assert [r["text"] for r in rows(Outbox)] == ["ok one", ERROR_REPLY, "ok two"]
    assert [r["state"] for r in rows(Inbox)] == ["done"] * 3
    assert [r["ok"] for r in rows(CommandLog)] == [True, False, True]
    assert (dispatcher.handled, dispatcher.command_errors) == (2, 1)


def test_replies_logs_and_done_marks_of_a_batch_are_written_once(sessionmaker, clock, rows,
                                                                 now, monkeypatch):
    """The fast path: one outbox write for the whole batch, in MO order."""
    real = outbox.enqueue
    calls = []

    def counting(session, parts, when):
        calls.append([p.text for p in parts])
        return real(session, parts, when)

    monkeypatch.setattr(outbox, "enqueue", counting)
    store(sessionmaker, now, "a", "b", "c")
    dispatcher, _ = make_dispatcher(sessionmaker, clock)
    dispatcher.wake()
    assert calls == [["ok a", "ok b", "ok c"]]
    assert [r["state"] for r in rows(Inbox)] == ["done"] * 3 and len(rows(CommandLog)) == 3


def test_a_long_reply_is_queued_as_concatenated_parts(sessionmaker, clock, rows, now):
    long_text = "x" * 200
    store(sessionmaker, now, "HELP")
    dispatcher, _ = make_dispatcher(
        sessionmaker, clock, handle=lambda s, sms, c: Outcome(reply=long_text))
    dispatcher.wake()
    parts = rows(Outbox)
    assert [(p["concat_total"], p["concat_number"]) for p in parts] == [(2, 1), (2, 2)]
    assert len({p["concat_ref"] for p in parts}) == 1
    assert "".join(p["text"] for p in parts) == long_text


def test_an_mo_handled_twice_has_one_effect(sessionmaker, clock, rows, now):
    """Another process re-claimed it after the lease: the unique log refuses the second."""
    def changing(session, sms, code):
        business_change(session, "once")
        return Outcome(reply="done")

    store(sessionmaker, now, "ORDER X100 5")
    dispatcher, _ = make_dispatcher(sessionmaker, clock, handle=changing)
    with sessionmaker.begin() as session:
        (mo,) = inbox.claim(session, 10, now, 60)
    for _ in range(2):
        with sessionmaker.begin() as session:
            dispatcher.dispatch_batch(session, [mo], now)
    assert len(rows(InboxSeenPart)) == 1 and len(rows(Outbox)) == 1
    assert len(rows(CommandLog)) == 1


def test_an_mo_claimed_too_often_is_answered_without_running_it(sessionmaker, clock, rows,
                                                               now):
    ran = []
    store(sessionmaker, now, "crashes the process")
    dispatcher, _ = make_dispatcher(
        sessionmaker, clock, handle=lambda *a: ran.append(a), max_attempts=2)
    with sessionmaker.begin() as session:
        session.execute(Inbox.__table__.update().values(attempts=2))
    dispatcher.wake()  # third claim
    assert ran == [] and dispatcher.given_up == 1
    assert [r["text"] for r in rows(Outbox)] == [ERROR_REPLY]


def test_no_reply_still_logs_and_finishes(sessionmaker, clock, rows, now):
    store(sessionmaker, now, "quiet")
    dispatcher, queued = make_dispatcher(
        sessionmaker, clock, handle=lambda *a: Outcome(reply=""))
    dispatcher.wake()
    assert rows(Outbox) == [] and len(rows(CommandLog)) == 1
    assert [r["state"] for r in rows(Inbox)] == ["done"] and queued == []


def test_batches_continue_until_the_inbox_is_empty(sessionmaker, clock, rows, now):
    store(sessionmaker, now, *[f"m{i}" for i in range(7)])
    dispatcher, _ = make_dispatcher(sessionmaker, clock, batch=3)
    dispatcher.wake()
    assert {r["state"] for r in rows(Inbox)} == {"done"} and len(rows(Outbox)) == 7


def test_with_the_real_command_handler(sessionmaker, clock, rows, now):
    """The real commands.handle answers (even an unknown sender) inside the transaction."""
    commands = pytest.importorskip("commands")
    store(sessionmaker, now, "HELP")
    dispatcher, _ = make_dispatcher(sessionmaker, clock, handle=commands.handle)
    dispatcher.wake()
    assert dispatcher.command_errors == 0
    assert len(rows(CommandLog)) == 1 and [r["state"] for r in rows(Inbox)] == ["done"]
    assert rows(Outbox) and all(r["text"] for r in rows(Outbox))
