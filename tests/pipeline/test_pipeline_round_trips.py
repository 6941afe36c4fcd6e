"""Fewer statements per batch: claims read their rows once, a batch's submit records and
receipts go in one statement each on MariaDB, released MOs come back at once, two inbox
writes may be in flight, and extra roles are read once per transaction (a grant in it
counts at once)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from erpcore import demo, inbox, outbox, rbac, services
from erpcore.messaging_models import Inbox, Outbox
from erpcore.users import User
from gateway.messages import DeliveryReport, InboundSms
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.inbox_writer import InboxWriter
from tests.pipeline.pipeline_fakes import InlineReactor, ManualPool


class Statements:
    def __init__(self, engine):
        self.seen: list[str] = []
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_rest):
        self.seen.append(statement.split(None, 1)[0].upper())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def mo(smsc_id, text="hi"):
    return InboundSms(link="smsc1", sender="13800000001", recipient="106571234501", text=text,
                      smsc_id=smsc_id)


def test_a_claim_reads_the_rows_it_locks_once(sessionmaker, engine, now):
    with sessionmaker.begin() as session:
        inbox.store(session, [mo(f"m{i}", f"text {i}") for i in range(3)], now)
    with Statements(engine) as statements, sessionmaker.begin() as session:
        claimed = inbox.claim(session, 10, now, 60)
    assert [m.text for m in claimed] == ["text 0", "text 1", "text 2"]
    assert all(m.attempts == 1 for m in claimed)
    # new rows, then (fewer than asked) abandoned ones, then the UPDATE: no third SELECT
    assert statements.seen == ["SELECT", "SELECT", "UPDATE"]


def test_released_mos_are_claimed_again_at_once_with_their_attempts(sessionmaker, now, rows):
    with sessionmaker.begin() as session:
        inbox.store(session, [mo("a"), mo("b")], now)
        first = inbox.claim(session, 10, now, 60)
    with sessionmaker.begin() as session:
        inbox.mark_done(session, [first[0].id], now)
        assert inbox.release(session, [m.id for m in first]) == 1  # the done one stays done
    assert [(r["state"], r["lease_until"]) for r in rows(Inbox)] == [("done", None), ("new", None)]
    with sessionmaker.begin() as session:
        again = inbox.claim(session, 10, now + timedelta(seconds=1), 60)
    assert [(m.smsc_id, m.attempts) for m in again] == [("b", 2)]


def test_a_big_batch_of_submit_records_and_receipts(sessionmaker, engine, now, rows):
    parts = [outbox.OutboxPart(sender="1065712345", recipient="13800000001", text=f"r{i}", coding="gsm7")
             for i in range(300)]
    with sessionmaker.begin() as session:
        outbox.enqueue(session, parts, now)
        claimed = outbox.claim_due(session, now, 300, 60)
    pairs = [(row.id, f"ID{row.id:X}") for row in claimed]
    with Statements(engine) as statements, sessionmaker.begin() as session:
        assert outbox.mark_submitted(session, pairs, now) == 0
    updates = statements.seen.count("UPDATE")
    if engine.dialect.name != "sqlite":
        assert updates == 2  # 300 rows: a 256-row statement and a 44-row one (padded)
    sent = rows(Outbox)
    assert all(r["state"] == "sent" and r["smsc_id"] == f"id{r['id']:x}" for r in sent)
    reports = [DeliveryReport("smsc1", f"id{r['id']:x}", "DELIVRD" if r["id"] % 3 else "UNDELIV")
               for r in sent]
    with Statements(engine) as statements, sessionmaker.begin() as session:
        assert outbox.record_receipts(session, reports, now) == 300
    assert statements.seen.count("UPDATE") == 2  # one per outcome, not one per receipt
    states = {r["id"]: r["state"] for r in rows(Outbox)}
    assert all(state == ("delivered" if oid % 3 else "undelivered") for oid, state in states.items())


def test_two_inbox_writes_may_be_in_flight_and_each_acknowledges_its_own(sessionmaker, clock, rows):
    pool = ManualPool()
    worker = DbWorker(sessionmaker, InlineReactor(), threads=4, pool=pool)
    writer = InboxWriter(worker, clock, concurrency=2)
    answers = []
    writer.handle_inbound(mo("a")).addCallback(answers.append)
    writer.handle_inbound(mo("b")).addCallback(answers.append)
    writer.handle_inbound(mo("c")).addCallback(answers.append)
    assert len(pool.queue) == 2 and writer.waiting == 1  # a, b in flight; c waits
    pool.run_one()
    assert answers == ["stored"] and len(pool.queue) == 2  # a done: c's write started
    pool.run_all()
    assert answers == ["stored"] * 3 and len(rows(Inbox)) == 3 and writer.batches == 3


def test_extra_roles_are_read_once_per_transaction_and_a_grant_counts_at_once(sessionmaker, engine):
    with sessionmaker.begin() as session:
        demo.seed_demo(session)
    with sessionmaker.begin() as session:
        clerk = session.scalars(select(User).where(User.msisdn == "13800000001")).one()
        with Statements(engine) as statements:
            rbac.remember_roles(session, [clerk])
            assert not rbac.has_permission(session, clerk, "order.approve")
            assert rbac.has_permission(session, clerk, "order.create")
        assert statements.seen == ["SELECT"]  # the remembering query only
        assert rbac.grant_role(session, clerk, "finance")
        assert rbac.has_permission(session, clerk, "order.approve")
        assert rbac.revoke_role(session, clerk, "finance")
        assert not rbac.has_permission(session, clerk, "order.approve")


def test_several_receipts_for_one_row_in_one_batch_apply_in_their_order(sessionmaker, now, rows):
    with sessionmaker.begin() as session:
        outbox.enqueue(session, [outbox.OutboxPart(sender="1065712345", recipient="13800000001",
                                                   text="r", coding="gsm7")], now)
        (row,) = outbox.claim_due(session, now, 1, 60)
        outbox.mark_submitted(session, [(row.id, "AB")], now)
    reports = [DeliveryReport("smsc1", "ab", "ENROUTE"), DeliveryReport("smsc1", "ab", "DELIVRD"),
               DeliveryReport("smsc1", "ab", "ACCEPTD")]
    with sessionmaker.begin() as session:
        assert outbox.record_receipts(session, reports, now) == 3
    (stored,) = rows(Outbox)
    # the final state stays; the last receipt's state is the one recorded
    assert (stored["state"], stored["receipt_state"]) == ("delivered", "ACCEPTD")


def test_subscriptions_are_read_once_per_transaction_and_a_change_in_it_counts_at_once(sessionmaker, engine):
    with sessionmaker.begin() as session:
        acme = services.create_enterprise_platform(
            session, code="ACME", name="顶点", extension="07", admin_password="acme-admin-pw", modules=["stock"])
        acme_id = acme.id
    with sessionmaker.begin() as session:
        with Statements(engine) as statements:
            services.remember_subscriptions(session, [acme_id])
            assert services.is_open(session, acme_id, "stock")
            assert not services.is_open(session, acme_id, "orders")  # never opened: remembered too
        assert statements.seen == ["SELECT"]  # the remembering query only
        services.open_service(session, acme_id, "orders")  # a new row replaces "never opened"
        assert services.is_open(session, acme_id, "orders")
        services.close_service(session, acme_id, "stock")  # the remembered row is the session's
        assert not services.is_open(session, acme_id, "stock")
        savepoint = session.begin_nested()
        services.open_service(session, acme_id, "alerts")
        services.open_service(session, acme_id, "stock")
        assert services.is_open(session, acme_id, "alerts") and services.is_open(session, acme_id, "stock")
        savepoint.rollback()  # what the savepoint made or changed is not remembered as it was
        assert not services.is_open(session, acme_id, "alerts")
        assert not services.is_open(session, acme_id, "stock")
    with sessionmaker.begin() as session:
        states = {m: services.is_open(session, acme_id, m) for m in ("stock", "orders", "alerts")}
    assert states == {"stock": False, "orders": True, "alerts": False}
