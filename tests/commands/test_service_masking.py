"""A SERVICE request's password does not outlive the request: once the dispatcher has
handled the MO, the inbox keeps ``SERVICE DEMO *** CLOSE alerts`` (written in the batch
that logs the command), while a crash before that still finds the raw text and acts after
restart. Refusals and lockouts behave as before; no log line carries the password."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from twisted.internet.task import Clock

import commands
from erpcore import inbox, rbac, services
from erpcore.messaging_models import CommandLog, Inbox, Outbox
from erpcore.services import ServiceRequest
from gateway.messages import InboundSms
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.dispatcher import ERROR_REPLY, Dispatcher
from gateway.text import split
from tests.commands.cmd_helpers import CLERK, MANAGER, demo, in_db, set_pin, user
from tests.commands.conftest import DEMO_NUMBER
from tests.pipeline.pipeline_fakes import ImmediatePool, InlineReactor

PASSWORD = "s3cret!"
NOW = datetime(2024, 3, 5, 4, 0)
LEASE = 60.0


@pytest.mark.parametrize("text, kept", [
    ("SERVICE DEMO s3cret! CLOSE alerts", "SERVICE DEMO *** CLOSE alerts"),
    ("fw demo s3cret! close alerts", "fw demo *** close alerts"),
    ("服务DEMO，s3cret!＃关闭 预警", "服务 DEMO *** 关闭 预警"),
    ("ＦＷ　ＤＥＭＯ　ｓ３ｃｒｅｔ！　ＯＰＥＮ　ｔａｓｋｓ", "FW DEMO *** OPEN tasks"),
    ("FW DEMO s3cret!", "FW DEMO ***"),  # too short for a request, still masked
    ("FW s3cret!", "FW ***"),  # a lone word may be the password
    ("SERVCE DEMO s3cret! CLOSE alerts", "SERVCE DEMO *** CLOSE alerts"),  # mistyped keyword
    ("FW", None),
    ("STOCK X100", None),
    ("Y 1001 246810", None),  # an approval PIN is checked, not a credential to an account
    ("", None),
])
def test_what_the_inbox_may_keep_of_a_text(text, kept):
    assert commands.kept_text(text) == kept


@pytest.fixture
def admin(sessionmaker, send):
    """The demo (seeded by ``send``) with the manager made admin, password s3cret!"""
    in_db(sessionmaker, lambda s: rbac.grant_role(s, user(s, MANAGER), "admin"))
    set_pin(sessionmaker, MANAGER, PASSWORD)


@pytest.mark.parametrize("sender", [MANAGER, CLERK, "13712345678"])
def test_every_outcome_of_a_service_request_carries_the_masked_text(send, admin, sender):
    outcome = send(sender, f"FW DEMO {PASSWORD} CLOSE alerts")
    assert outcome.kept_text == "FW DEMO *** CLOSE alerts"
    assert PASSWORD not in outcome.reply


class Gateway:
    """The real dispatcher and commands.handle on a task.Clock; ``restart()`` is a new
    process: a new dispatcher over the same database."""

    def __init__(self, sessionmaker, handle=commands.handle):
        self.sessionmaker = sessionmaker
        self.clock = Clock()
        self.clock.advance(NOW.replace(tzinfo=timezone.utc).timestamp())
        self.handle = handle
        self.restart()

    def restart(self, handle=None):
        worker = DbWorker(self.sessionmaker, InlineReactor(), pool=ImmediatePool())
        self.dispatcher = Dispatcher(worker, self.clock, "1065712345", handle=handle or self.handle,
                                     split=split, lease=LEASE)

    def store(self, sender, text, smsc_id):
        with self.sessionmaker.begin() as session:
            inbox.store(session, [InboundSms(link="smsc1", sender=sender, recipient=DEMO_NUMBER, text=text,
                                             smsc_id=smsc_id)], self.now)

    @property
    def now(self):
        return datetime.fromtimestamp(self.clock.seconds(), timezone.utc).replace(tzinfo=None)

    def table(self, model, *columns):
        with self.sessionmaker() as session:
            return [tuple(row) for row in session.execute(select(*(getattr(model, c) for c in columns))
                                                          .order_by(model.id))]


def alerts_open(sessionmaker):
    return in_db(sessionmaker, lambda s: services.is_open(s, demo(s).id, "alerts"))


def request_results(sessionmaker):
    return in_db(sessionmaker, lambda s: [r.result for r in s.scalars(select(ServiceRequest)
                                                                       .order_by(ServiceRequest.id))])


def test_after_a_service_request_the_inbox_holds_no_password_and_it_acted_once(sessionmaker, admin, caplog):
    gateway = Gateway(sessionmaker)
    before = request_results(sessionmaker)
    gateway.store(MANAGER, f"SERVICE DEMO {PASSWORD} CLOSE alerts", "mo-1")
    with caplog.at_level(logging.DEBUG):
        gateway.dispatcher.wake()
        gateway.store(MANAGER, f"SERVICE DEMO {PASSWORD} CLOSE alerts", "mo-1")  # delivered twice
        gateway.dispatcher.wake()
    assert gateway.table(Inbox, "text", "state") == [("SERVICE DEMO *** CLOSE alerts", "done")]
    assert gateway.table(CommandLog, "command", "ok") == [("SERVICE", True)]
    assert gateway.table(Outbox, "text") == [("The alerts service is now closed.",)]
    assert not alerts_open(sessionmaker)
    assert request_results(sessionmaker) == before + ["ok"]
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_refused_and_locks_as_before_and_is_masked_too(sessionmaker, admin):
    gateway = Gateway(sessionmaker)
    for n in range(5):
        gateway.store(MANAGER, f"FW DEMO wrong{n} CLOSE alerts", f"bad-{n}")
    gateway.dispatcher.wake()
    gateway.store(MANAGER, f"FW DEMO {PASSWORD} CLOSE alerts", "good")
    gateway.dispatcher.wake()
    replies = [text for (text,) in gateway.table(Outbox, "text")]
    assert replies == ["Wrong company code or password. Check them and send again."] * 5 + [
        "Too many wrong passwords; try again in 15 minutes."]
    texts = [text for (text,) in gateway.table(Inbox, "text")]
    assert texts == ["FW DEMO *** CLOSE alerts"] * 6
    assert alerts_open(sessionmaker)


def test_a_crash_between_storing_and_handling_still_acts_after_restart(sessionmaker, admin):
    """The first process claims the MO and dies mid-batch (its transaction never commits):
    the raw text is still stored, so the next process, once the lease has run out, runs the
    request — once — and only then masks it."""
    gateway = Gateway(sessionmaker)
    gateway.store(MANAGER, f"FW DEMO {PASSWORD} CLOSE alerts", "mo-1")
    with sessionmaker.begin() as session:
        claimed = inbox.claim(session, 10, gateway.now, LEASE)
    session = sessionmaker()
    gateway.dispatcher.dispatch_batch(session, claimed, gateway.now)
    session.rollback()  # the process died before the commit
    session.close()
    assert gateway.table(Inbox, "text", "state") == [(f"FW DEMO {PASSWORD} CLOSE alerts", "processing")]
    assert alerts_open(sessionmaker)
    gateway.restart()
    gateway.dispatcher.wake()  # within the lease: another process may still be at work
    assert alerts_open(sessionmaker)
    gateway.clock.advance(LEASE + 1)
    gateway.dispatcher.wake()
    assert gateway.table(Inbox, "text", "state") == [("FW DEMO *** CLOSE alerts", "done")]
    assert not alerts_open(sessionmaker)
    assert gateway.table(CommandLog, "command", "ok") == [("SERVICE", True)]


def test_the_text_is_masked_when_the_batch_is_done_one_mo_at_a_time(sessionmaker, admin):
    """Another process already logged the second MO: the batch write fails, every MO is
    done again in its own savepoint, and the SERVICE request is still masked."""
    gateway = Gateway(sessionmaker)
    gateway.store(MANAGER, f"FW DEMO {PASSWORD} CLOSE alerts", "mo-1")
    gateway.store(CLERK, "KC X100", "mo-2")
    with sessionmaker.begin() as session:
        second = session.scalar(select(Inbox.id).where(Inbox.smsc_id == "mo-2"))
        inbox.log_command(session, second, "STOCK", True, gateway.now)
    gateway.dispatcher.wake()
    assert gateway.table(Inbox, "text", "state")[0] == ("FW DEMO *** CLOSE alerts", "done")
    assert not alerts_open(sessionmaker) and gateway.dispatcher.handled == 1


def test_a_request_whose_command_fails_is_answered_busy_and_masked(sessionmaker, admin, caplog):
    def failing(session, sms, code):
        commands.handle(session, sms, code)
        raise RuntimeError("the database went away")

    gateway = Gateway(sessionmaker, handle=failing)
    gateway.store(MANAGER, f"FW DEMO {PASSWORD} CLOSE alerts", "mo-1")
    with caplog.at_level(logging.DEBUG):
        gateway.dispatcher.wake()
    assert gateway.table(Inbox, "text", "state") == [("FW DEMO *** CLOSE alerts", "done")]
    assert gateway.table(Outbox, "text") == [(ERROR_REPLY,)]
    assert alerts_open(sessionmaker)  # the failed command's change was rolled back
    assert "the database went away" in caplog.text and PASSWORD not in caplog.text


def test_database_errors_carry_no_statement_parameters(sessionmaker):
    """MO texts are statement parameters; the pipeline logs the message of a failed write
    (the inbox writer, the links), so the engine leaves parameters out of it."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    row = {"id": 7, "link": "smsc1", "sender": MANAGER, "recipient": DEMO_NUMBER,
           "text": f"FW DEMO {PASSWORD} CLOSE alerts", "state": "new", "attempts": 0, "received_at": NOW}
    with pytest.raises(IntegrityError) as failed, sessionmaker.begin() as session:
        session.execute(insert(Inbox.__table__), [row, row])  # the same id twice
    assert "INSERT INTO inbox" in str(failed.value) and PASSWORD not in str(failed.value)
    assert MANAGER not in str(failed.value)


def test_the_raw_text_is_kept_for_commands_without_secrets(sessionmaker, admin):
    gateway = Gateway(sessionmaker)
    gateway.store(CLERK, "库存 X100", "mo-1")
    gateway.dispatcher.wake()
    assert gateway.table(Inbox, "text", "state") == [("库存 X100", "done")]
