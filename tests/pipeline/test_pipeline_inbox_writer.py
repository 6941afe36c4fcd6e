"""InboxWriter: acknowledge only after commit, group commit, errors fail the whole batch."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError

from erpcore import outbox
from erpcore.messaging_models import Inbox, Outbox
from gateway.messages import DeliveryReport, InboundSms
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.inbox_writer import InboxWriter
from tests.pipeline.pipeline_fakes import InlineReactor, ManualPool


def mo(smsc_id, text="hi"):
    return InboundSms(link="smsc1", sender="13800000001", recipient="106571234501",
                      text=text, smsc_id=smsc_id)


def make_writer(sessionmaker, clock):
    pool = ManualPool()
    worker = DbWorker(sessionmaker, InlineReactor(), pool=pool)
    woken = []
    writer = InboxWriter(worker, clock, on_stored=lambda: woken.append(True))
    return writer, pool, woken


def fired(d):
    seen = []
    d.addBoth(seen.append)
    return seen


def test_the_deferred_fires_only_once_the_mo_is_committed(sessionmaker, clock, rows):
    writer, pool, _ = make_writer(sessionmaker, clock)
    d = writer.handle_inbound(mo("a"))
    seen_at_fire = []
    d.addCallback(lambda result: seen_at_fire.append((result, len(rows(Inbox)))))
    assert seen_at_fire == [] and rows(Inbox) == []  # write still in flight: no ack
    pool.run_one()
    assert seen_at_fire == [("stored", 1)]  # a fresh session already sees the row


def test_messages_arriving_during_a_write_go_in_one_more_transaction(sessionmaker, clock,
                                                                     rows):
    writer, pool, _ = make_writer(sessionmaker, clock)
    first = fired(writer.handle_inbound(mo("a")))
    rest = [fired(writer.handle_inbound(mo(f"b{i}"))) for i in range(5)]
    rest.append(fired(writer.handle_receipt(DeliveryReport("smsc1", "x1", "DELIVRD"))))
    assert len(pool.queue) == 1 and writer.waiting == 6
    pool.run_one()
    assert first == ["stored"] and all(r == [] for r in rest)
    assert len(pool.queue) == 1  # exactly one more transaction for all six
    pool.run_one()
    assert [r[0] for r in rest] == ["stored"] * 5 + [None]
    assert writer.batches == 2 and len(rows(Inbox)) == 6 and not pool.queue


def test_duplicates_are_acknowledged_without_waking_the_dispatcher(sessionmaker, clock):
    writer, pool, woken = make_writer(sessionmaker, clock)
    writer.handle_inbound(mo("a"))
    pool.run_all()
    assert woken == [True]
    answer = fired(writer.handle_inbound(mo("a")))
    pool.run_all()
    assert answer == ["duplicate"] and woken == [True] and writer.duplicates == 1


def test_a_failed_write_errbacks_every_deferred_of_its_batch(sessionmaker, clock, rows):
    writer, pool, woken = make_writer(sessionmaker, clock)
    first = fired(writer.handle_inbound(mo("first")))
    batch = [fired(writer.handle_inbound(mo(f"a{i}"))) for i in range(3)]
    pool.run_one()  # the first write succeeds; the three wait for the next one
    woken.clear()
    pool.fail_next.append(OperationalError("INSERT", {}, Exception("server has gone away")))
    pool.run_one()
    assert first == ["stored"]
    assert all(len(r) == 1 and r[0].check(OperationalError) for r in batch)
    for r in batch:
        r[0].trap(OperationalError)  # handled, as the link does
    assert [r["smsc_id"] for r in rows(Inbox)] == ["first"]
    assert woken == [] and writer.failed_batches == 1
    # the SMS centre redelivers; the next batch is written normally
    again = fired(writer.handle_inbound(mo("a0")))
    pool.run_all()
    assert again == ["stored"]


def test_receipts_go_through_the_writer_into_the_outbox(sessionmaker, clock, rows, now):
    with sessionmaker.begin() as session:
        outbox.enqueue(session, [outbox.OutboxPart("1065", "1380", "r", "gsm7")], now)
        (row,) = outbox.claim_due(session, now, 1, 60)
        outbox.mark_submitted(session, [(row.id, "ABCD")], now)
    writer, pool, _ = make_writer(sessionmaker, clock)
    writer.handle_receipt(DeliveryReport("smsc1", "43981", "DELIVRD"))
    pool.run_all()
    assert rows(Outbox)[0]["state"] == "delivered" and writer.receipts_matched == 1
