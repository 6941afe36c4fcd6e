"""Dispatcher batches: no savepoint per MO unless a command raises, the batch's senders
looked up at once, the lease renewed only after a long wait, a failed batch's MOs given
back at once, passes in flight side by side, and the notifier woken only when needed."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import event, insert
from sqlalchemy.exc import OperationalError

from erpcore import demo, inbox, notifications, outbox
from erpcore.events import Notification
from erpcore.messaging_models import CommandLog, Inbox, InboxSeenPart, Outbox
from gateway.messages import InboundSms
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.dispatcher import ERROR_REPLY, Dispatcher
from gateway.text import split
from tests.pipeline.pipeline_fakes import ImmediatePool, InlineReactor, ManualPool, Outcome, echo_handle

SERVICE_CODE = demo.DEMO_SERVICE_CODE


def store(sessionmaker, now, messages):
    """messages: [(sender, text)] to the demo enterprise's number."""
    with sessionmaker.begin() as session:
        inbox.store(session, [
            InboundSms(link="smsc1", sender=sender, recipient=SERVICE_CODE + "01", text=text,
                       smsc_id=f"id{i}") for i, (sender, text) in enumerate(messages)
        ], now)


def make_dispatcher(sessionmaker, clock, pool=None, **kw):
    worker = DbWorker(sessionmaker, InlineReactor(), threads=kw.pop("threads", 1),
                      pool=pool or ImmediatePool())
    kw.setdefault("handle", echo_handle)
    return Dispatcher(worker, clock, SERVICE_CODE, split=split, **kw)


class Statements:
    """The SQL the engine sends while the test looks."""

    def __init__(self, engine):
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)
        self._engine = engine

    def _seen(self, _conn, _cursor, statement, *_rest):
        self.seen.append(" ".join(statement.split()))

    def count(self, start: str) -> int:
        return sum(1 for s in self.seen if s.upper().startswith(start))

    def close(self):
        event.remove(self._engine, "before_cursor_execute", self._seen)


def business_change(session, marker):
    """A marker row standing for the command's business write."""
    session.execute(insert(InboxSeenPart.__table__),
                    [dict(link="business", smsc_id=marker, seen_at=datetime(2024, 1, 1))])


def test_a_batch_of_mos_takes_one_savepoint_not_one_each(sessionmaker, engine, clock, rows, now):
    store(sessionmaker, now, [("13800000001", f"HELP {i}") for i in range(6)])
    dispatcher = make_dispatcher(sessionmaker, clock)
    statements = Statements(engine)
    try:
        dispatcher.wake()
    finally:
        statements.close()
    assert len(rows(Outbox)) == 6 and dispatcher.handled == 6
    assert statements.count("SAVEPOINT") == 1, statements.seen
    assert dispatcher.retried_batches == 0


def test_a_command_that_raises_makes_the_batch_run_again_one_mo_at_a_time(sessionmaker, clock,
                                                                        rows, now):
    calls = []

    def picky(session, sms, code):
        calls.append(sms.text)
        business_change(session, f"{sms.text}-{len(calls)}")
        if sms.text == "bad":
            raise ValueError("no")
        return Outcome(reply=f"ok {sms.text}")

    store(sessionmaker, now, [("13800000001", t) for t in ("one", "bad", "two")])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=picky)
    dispatcher.wake()
    # first pass: one, bad (raises: all rolled back); then one at a time: one, bad, two
    assert calls == ["one", "bad", "one", "bad", "two"]
    assert sorted(r["smsc_id"] for r in rows(InboxSeenPart)) == ["one-3", "two-5"]
    assert sorted(r["text"] for r in rows(Outbox)) == sorted([ERROR_REPLY, "ok one", "ok two"])
    assert len(rows(CommandLog)) == 3 and dispatcher.retried_batches == 1
    assert dispatcher.command_errors == 1 and dispatcher.handled == 2


def test_the_senders_of_a_batch_are_looked_up_in_one_query(sessionmaker, engine, clock, rows, now):
    with sessionmaker.begin() as session:
        demo.seed_demo(session)
    senders = ["13800000001", "13800000002", "13800000003"]
    store(sessionmaker, now, [(senders[i % 3], "STOCK X100") for i in range(9)])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=None)  # the command layer's own
    statements = Statements(engine)
    try:
        dispatcher.wake()
    finally:
        statements.close()
    replies = rows(Outbox)
    assert len(replies) == 9 and all("X100" in r["text"] for r in replies)
    user_queries = [s for s in statements.seen if s.upper().startswith("SELECT") and "FROM USERS" in s.upper()]
    role_queries = [s for s in statements.seen if "FROM USER_ROLES" in s.upper()]
    assert len(user_queries) == 1, user_queries
    assert len(role_queries) <= 1, role_queries
    assert all(r["state"] == "done" for r in rows(Inbox))


def test_on_mariadb_the_lease_is_renewed_only_when_the_batch_waited_long_for_a_thread(sessionmaker, engine,
                                                                         clock, now):
    store(sessionmaker, now, [("13800000001", "HELP"), ("13800000001", "HELP 2")])
    dispatcher = make_dispatcher(sessionmaker, clock, lease=60.0)
    with sessionmaker.begin() as session:
        first = inbox.claim(session, 1, now, 60.0)
        second = inbox.claim(session, 1, now, 60.0)
    statements = Statements(engine)
    try:
        with sessionmaker.begin() as session:  # handed over a moment ago
            dispatcher.dispatch_batch(session, first, now, scheduled_at=time.monotonic())
        renewals_at_once = statements.count("UPDATE INBOX SET LEASE_UNTIL")
        with sessionmaker.begin() as session:  # waited 20 s for a thread: over a quarter lease
            dispatcher.dispatch_batch(session, second, now, scheduled_at=time.monotonic() - 20)
        renewals_after_wait = statements.count("UPDATE INBOX SET LEASE_UNTIL") - renewals_at_once
    finally:
        statements.close()
    # SQLite: always, as the write that begins the transaction before any savepoint
    expected = (1, 1) if engine.dialect.name == "sqlite" else (0, 1)
    assert (renewals_at_once, renewals_after_wait) == expected
    assert dispatcher.handled == 2


class FlakySessions:
    """A sessionmaker whose `fail`-th transaction dies at its commit (a deadlock)."""

    def __init__(self, sessionmaker, fail: int):
        self.sessionmaker = sessionmaker
        self.fail = fail
        self.begun = 0

    def begin(self):
        self.begun += 1
        return _Dying(self.sessionmaker()) if self.begun == self.fail else self.sessionmaker.begin()


class _Dying:
    def __init__(self, session):
        self.session = session

    def __enter__(self):
        self.session.begin()
        return self.session

    def __exit__(self, kind, value, tb):
        self.session.rollback()
        self.session.close()
        if kind is None:
            raise OperationalError("COMMIT", {}, Exception("Deadlock found when trying to get lock"))
        return False


def test_a_batch_whose_transaction_fails_gives_its_mos_back_and_takes_them_again_at_once(
        sessionmaker, clock, rows, now):
    store(sessionmaker, now, [("13800000001", "HELP")])
    flaky = FlakySessions(sessionmaker, fail=2)  # 1: the claim commits; 2: the batch dies
    worker = DbWorker(flaky, InlineReactor(), pool=ImmediatePool())
    dispatcher = Dispatcher(worker, clock, SERVICE_CODE, split=split, handle=echo_handle)
    dispatcher.wake()
    # Given back (3), not left to its lease: the pass after the failure claimed it again (4, 5).
    assert flaky.begun == 5 and dispatcher.failed_batches == 1
    (mo,) = rows(Inbox)
    assert (mo["state"], mo["attempts"]) == ("done", 2)
    assert [r["text"] for r in rows(Outbox)] == ["ok HELP"]


def test_a_pass_that_fails_again_waits_for_the_next_poll(sessionmaker, clock, rows, now):
    """The database refusing every batch: one pass again at once, then one a poll, not a spin."""
    down = [True]

    def refused(session, sms, code):
        if down[0]:
            raise OperationalError("SELECT", {}, Exception("(1205, 'Lock wait timeout exceeded')"))
        return Outcome(reply=f"ok {sms.text}")

    store(sessionmaker, now, [("13800000001", "HELP")])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=refused)
    dispatcher.wake()
    assert dispatcher.failed_batches == 2
    dispatcher.wake()  # the poll's
    assert dispatcher.failed_batches == 3
    down[0] = False
    dispatcher.wake()
    assert dispatcher.failed_batches == 3
    (mo,) = rows(Inbox)
    assert (mo["state"], mo["attempts"]) == ("done", 4)
    assert [r["text"] for r in rows(Outbox)] == ["ok HELP"]


def test_a_deadlock_inside_the_batch_gives_its_mos_back_instead_of_answering_busy(sessionmaker, clock,
                                                                                 rows, now):
    """MySQL/MariaDB roll the whole transaction back for a deadlock victim, savepoints and
    all: running the MOs again one by one in it cannot work, so the pass gives them back."""
    calls = []

    def deadlocked_once(session, sms, code):
        calls.append(sms.text)
        business_change(session, f"{sms.text}-{len(calls)}")
        if sms.text == "two" and calls.count("two") == 1:
            raise OperationalError("UPDATE stock_levels", {}, Exception("(1213, 'Deadlock found')"))
        return Outcome(reply=f"ok {sms.text}")

    store(sessionmaker, now, [("13800000001", t) for t in ("one", "two", "three")])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=deadlocked_once)
    dispatcher.wake()
    # The batch, then the batch again in a new pass (claimed a second time), not one by
    # one in the dead transaction; nothing of the first try stays, nobody is told "busy".
    assert calls == ["one", "two", "one", "two", "three"]
    assert (dispatcher.failed_batches, dispatcher.retried_batches, dispatcher.command_errors) == (1, 0, 0)
    assert sorted(r["smsc_id"] for r in rows(InboxSeenPart)) == ["one-3", "three-5", "two-4"]
    assert sorted(r["text"] for r in rows(Outbox)) == ["ok one", "ok three", "ok two"]
    assert len(rows(CommandLog)) == 3
    assert [(mo["state"], mo["attempts"]) for mo in rows(Inbox)] == [("done", 2)] * 3


def test_a_failed_pass_is_logged_by_the_error_it_began_with(sessionmaker, clock, now, caplog):
    """A deadlock victim's savepoint is gone with its transaction: leaving it fails too,
    and the log names the deadlock, not only the missing savepoint."""
    def deadlock_then_no_savepoint(session, sms, code):
        try:
            raise OperationalError("UPDATE document_sequences", {}, Exception("(1213, 'Deadlock found')"))
        except OperationalError:
            raise OperationalError("ROLLBACK TO SAVEPOINT sa_savepoint_1", {},
                                   Exception("(1305, 'SAVEPOINT sa_savepoint_1 does not exist')")) from None

    store(sessionmaker, now, [("13800000001", "HELP")])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=deadlock_then_no_savepoint)
    dispatcher.wake()
    failed = [r.getMessage() for r in caplog.records if "dispatch pass failed" in r.getMessage()]
    assert len(failed) == 2
    assert failed[0].index("1213") < failed[0].index("then:") < failed[0].index("1305")


def test_a_lost_transaction_while_looking_up_the_senders_gives_the_mos_back(sessionmaker, clock, rows, now):
    """Looking up a batch's senders at once may fail and cost only its queries, but not
    when the database gave the transaction up: the commands would run outside it."""
    looked_up = []

    def lost_once(session, _messages):
        looked_up.append(True)
        business_change(session, f"prepared-{len(looked_up)}")
        if len(looked_up) == 1:
            raise OperationalError("SELECT users", {}, Exception("(2013, 'Lost connection')"))

    store(sessionmaker, now, [("13800000001", "HELP")])
    dispatcher = make_dispatcher(sessionmaker, clock, prepare=lost_once)
    dispatcher.wake()
    assert (dispatcher.failed_batches, dispatcher.handled) == (1, 1)
    assert [r["smsc_id"] for r in rows(InboxSeenPart)] == ["prepared-2"]  # the first pass left nothing
    assert [r["text"] for r in rows(Outbox)] == ["ok HELP"]
    assert [(mo["state"], mo["attempts"]) for mo in rows(Inbox)] == [("done", 2)]


def test_a_batch_runs_in_the_order_of_the_enterprises_numbers_each_senders_mos_in_order(
        sessionmaker, clock, now):
    seen = []

    def record(session, sms, code):
        seen.append((sms.recipient, sms.sender, sms.text))
        return Outcome(reply="ok")

    with sessionmaker.begin() as session:
        inbox.store(session, [
            InboundSms(link="smsc1", sender=sender, recipient=SERVICE_CODE + ext, text=text, smsc_id=f"id{i}")
            for i, (ext, sender, text) in enumerate([
                ("02", "13800000009", "b1"), ("01", "13800000001", "a1"), ("02", "13800000008", "c1"),
                ("01", "13800000002", "d1"), ("02", "13800000009", "b2"), ("01", "13800000001", "a2"),
            ])], now)
    make_dispatcher(sessionmaker, clock, handle=record).wake()
    assert [text for _recipient, _sender, text in seen] == ["a1", "d1", "a2", "b1", "c1", "b2"]


def test_a_pass_claims_and_runs_its_batch_in_one_db_thread_unit(sessionmaker, clock, rows, now):
    store(sessionmaker, now, [("13800000001", "HELP"), ("13800000002", "HELP 2")])
    pool = ManualPool()
    dispatcher = make_dispatcher(sessionmaker, clock, pool=pool)
    dispatcher.wake()
    assert len(pool.queue) == 1
    pool.run_one()  # claim committed, batch run and committed: one hop to the thread
    assert not pool.queue and [r["state"] for r in rows(Inbox)] == ["done", "done"]
    assert len(rows(Outbox)) == 2


def test_two_passes_may_be_in_flight_and_a_third_wake_waits(sessionmaker, clock, now):
    store(sessionmaker, now, [("13800000001", f"HELP {i}") for i in range(4)])
    pool = ManualPool()
    dispatcher = make_dispatcher(sessionmaker, clock, pool=pool, threads=4, passes=2, batch=2)
    dispatcher.wake()
    dispatcher.wake()
    dispatcher.wake()
    assert len(pool.queue) == 2  # two claims; the third wake is remembered, not started
    pool.run_all()
    assert dispatcher.handled == 4 and not pool.queue


def test_the_notifier_is_woken_only_by_a_batch_that_stored_a_notification(sessionmaker, clock,
                                                                        now):
    with sessionmaker.begin() as session:
        enterprise_id = demo.seed_demo(session).id

    def tell(session, sms, code):
        if sms.text == "tell":
            notifications.notify(session, Notification(
                enterprise_id=enterprise_id, msisdn="13800000002", user_id=None, text_zh="x",
                text_en="x", urgent=False, key=f"test:{sms.smsc_id}"))
        return Outcome(reply="ok")

    notified, queued = [], []
    dispatcher = make_dispatcher(sessionmaker, clock, handle=tell,
                                 on_notified=lambda: notified.append(True),
                                 on_queued=lambda: queued.append(True))
    store(sessionmaker, now, [("13800000001", "quiet")])
    dispatcher.wake()
    assert (queued, notified) == ([True], [])
    with sessionmaker.begin() as session:
        inbox.store(session, [InboundSms(link="smsc1", sender="13800000001",
                                         recipient=SERVICE_CODE + "01", text="tell", smsc_id="t1")], now)
    dispatcher.wake()
    assert (queued, notified) == ([True, True], [True])


def test_a_batchs_replies_are_stored_claimed_and_handed_to_the_sender(sessionmaker, clock, rows, now):
    handed = []
    dispatcher = make_dispatcher(sessionmaker, clock, on_replies=lambda r, end: handed.append((r, end)),
                                 reply_lease=30.0)
    store(sessionmaker, now, [("13800000001", "HELP"), ("13800000002", "HELP 2")])
    dispatcher.wake()
    (replies, lease_end) = handed[0]
    stored = rows(Outbox)
    assert [r.id for r in replies] == [r["id"] for r in stored]
    assert [r.text for r in replies] == ["ok HELP", "ok HELP 2"]
    assert all(r.attempts == 1 for r in replies)
    # as a claim leaves them: another process takes them only after the lease
    assert all((r["state"], r["attempts"]) == ("sending", 1) for r in stored)
    assert {r["lease_until"] for r in stored} == {lease_end}
    with sessionmaker.begin() as session:
        assert outbox.claim_due(session, now + timedelta(seconds=29), 10, 30) == []
        assert len(outbox.claim_due(session, now + timedelta(seconds=31), 10, 30)) == 2


def test_replies_of_a_batch_done_one_by_one_stay_queued_for_the_sender(sessionmaker, clock, rows, now):
    def picky(session, sms, code):
        if sms.text == "bad":
            raise ValueError("no")
        return Outcome(reply=f"ok {sms.text}")

    handed, woken = [], []
    dispatcher = make_dispatcher(sessionmaker, clock, handle=picky, on_replies=lambda r, end: handed.append(r),
                                 on_queued=lambda: woken.append(True))
    store(sessionmaker, now, [("13800000001", "one"), ("13800000001", "bad")])
    dispatcher.wake()
    assert handed == [] and woken == [True]
    assert {r["state"] for r in rows(Outbox)} == {"queued"}


def test_the_sender_sends_handed_rows_without_claiming_them(sessionmaker, engine, clock, rows, now):
    from gateway.pipeline.outbox_sender import OutboxSender
    from tests.pipeline.pipeline_fakes import FakeLink

    link = FakeLink(window=5)
    worker = DbWorker(sessionmaker, InlineReactor(), pool=ImmediatePool())
    sender = OutboxSender(worker, clock, [link], poll_interval=1.0)
    sender.startService()  # the first poll finds nothing to claim
    dispatcher = make_dispatcher(sessionmaker, clock, on_replies=sender.take)
    store(sessionmaker, now, [("13800000001", "HELP"), ("13800000002", "HELP 2")])
    statements = Statements(engine)
    try:
        dispatcher.wake()
    finally:
        statements.close()
    assert [m.text for m in link.sent] == ["ok HELP", "ok HELP 2"]
    assert not [s for s in statements.seen if "FROM OUTBOX" in s.upper()], "no claim of the replies"
    link.accept_all()
    assert [r["state"] for r in rows(Outbox)] == ["sent", "sent"] and sender.submitted == 2
    sender.stopService()
