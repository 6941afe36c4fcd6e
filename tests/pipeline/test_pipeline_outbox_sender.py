"""OutboxSender with a fake link: window, backoff on the clock, final failures."""
from __future__ import annotations

import pytest

from erpcore import outbox
from erpcore.messaging_models import Outbox
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.outbox_sender import OutboxSender, backoff
from tests.pipeline.pipeline_fakes import (
    FakeLink,
    ImmediatePool,
    InlineReactor,
    LinkDown,
    SubmitRejected,
)

THROTTLED = 0x58
INVALID_DEST = 0x0B


def queue(sessionmaker, now, count, link=None, **kw):
    with sessionmaker.begin() as session:
        outbox.enqueue(session, [
            outbox.OutboxPart(sender="1065712345", recipient="13800000001",
                              text=f"part {i}", coding="gsm7", link=link, **kw)
            for i in range(count)
        ], now)


def start_sender(sessionmaker, clock, *links, **kw):
    worker = DbWorker(sessionmaker, InlineReactor(), pool=ImmediatePool())
    sender = OutboxSender(worker, clock, links, poll_interval=1.0, **kw)
    sender.startService()
    return sender


def states(rows):
    return [r["state"] for r in rows(Outbox)]


def test_submits_no_more_than_the_window_and_continues_as_slots_free(
    sessionmaker, clock, rows, now
):
    queue(sessionmaker, now, 5)
    link = FakeLink(window=2)
    sender = start_sender(sessionmaker, clock, link)
    assert [m.text for m in link.sent] == ["part 0", "part 1"]
    link.accept("0A")  # a slot frees: the link's ready listener pulls the next row
    assert len(link.sent) == 3
    link.accept_all()
    link.accept_all()
    assert len(link.sent) == 5 and states(rows) == ["sent"] * 5
    assert rows(Outbox)[0]["smsc_id"] == "0a" and sender.submitted == 5


def test_an_unbound_link_gets_nothing_until_it_binds(sessionmaker, clock, now):
    queue(sessionmaker, now, 1)
    link = FakeLink(bound=False)
    start_sender(sessionmaker, clock, link)
    clock.advance(5)
    assert link.sent == []
    link.bind()
    assert len(link.sent) == 1


def test_throttled_submits_are_retried_later_with_growing_delays(sessionmaker, clock, rows,
                                                                  now):
    queue(sessionmaker, now, 1)
    link = FakeLink()
    sender = start_sender(sessionmaker, clock, link, retry_initial=1.0, retry_max=300.0)
    link.refuse(SubmitRejected(THROTTLED, True))
    assert states(rows) == ["queued"] and len(link.sent) == 1
    clock.advance(1)  # first retry after 1 s
    assert len(link.sent) == 2
    link.refuse(SubmitRejected(THROTTLED, True))
    clock.advance(1)
    assert len(link.sent) == 2  # the second waits 2 s
    clock.advance(1)
    assert len(link.sent) == 3
    link.accept("77")
    assert states(rows) == ["sent"] and sender.retried == 2
    assert rows(Outbox)[0]["attempts"] == 3


def test_a_permanent_rejection_marks_the_row_failed(sessionmaker, clock, rows, now):
    queue(sessionmaker, now, 1)
    link = FakeLink()
    start_sender(sessionmaker, clock, link)
    link.refuse(SubmitRejected(INVALID_DEST, False))
    clock.advance(600)
    assert states(rows) == ["failed"] and len(link.sent) == 1
    assert "SubmitRejected" in rows(Outbox)[0]["last_error"]


def test_link_down_is_retried(sessionmaker, clock, rows, now):
    queue(sessionmaker, now, 1)
    link = FakeLink()
    start_sender(sessionmaker, clock, link)
    link.refuse(LinkDown("connection lost"))
    assert states(rows) == ["queued"]
    clock.advance(1)
    link.accept()
    assert states(rows) == ["sent"]


def test_attempts_run_out_into_failed(sessionmaker, clock, rows, now):
    queue(sessionmaker, now, 1)
    link = FakeLink()
    start_sender(sessionmaker, clock, link, max_attempts=2)
    link.refuse(SubmitRejected(THROTTLED, True))
    clock.advance(1)
    link.refuse(SubmitRejected(THROTTLED, True))
    clock.advance(600)
    assert states(rows) == ["failed"] and len(link.sent) == 2


def test_a_link_that_raises_does_not_stop_the_queue(sessionmaker, clock, rows, now):
    queue(sessionmaker, now, 2)
    link = FakeLink()
    calls = []
    real_submit = link.submit

    def submit(msg):
        calls.append(msg)
        if len(calls) == 1:
            raise RuntimeError("bug")
        return real_submit(msg)

    link.submit = submit
    start_sender(sessionmaker, clock, link)
    link.accept()
    assert states(rows) == ["queued", "sent"]


def test_concatenated_parts_carry_their_udh_positions(sessionmaker, clock, now):
    queue(sessionmaker, now, 1, concat_ref=9, concat_total=2, concat_number=2)
    link = FakeLink()
    start_sender(sessionmaker, clock, link)
    (msg,) = link.sent
    assert (msg.concat.reference, msg.concat.total, msg.concat.number) == (9, 2, 2)


def test_a_row_goes_to_the_link_it_names_when_that_link_can_take_it(sessionmaker, clock,
                                                                    now):
    queue(sessionmaker, now, 1, link="second")
    first, second = FakeLink("first"), FakeLink("second")
    start_sender(sessionmaker, clock, first, second)
    assert (len(first.sent), len(second.sent)) == (0, 1)


def test_a_failed_outcome_write_is_kept_and_written_later(sessionmaker, clock, rows, now):
    queue(sessionmaker, now, 1)
    link = FakeLink()
    sender = start_sender(sessionmaker, clock, link)
    # the write fails, and so does the retry when the freed slot wakes the sender
    sender._worker.pool.fail_next += [RuntimeError("db away"), RuntimeError("still away")]
    link.accept("ab")
    assert states(rows) == ["sending"]
    clock.advance(1)  # the poll writes it again
    assert states(rows) == ["sent"] and rows(Outbox)[0]["smsc_id"] == "ab"


@pytest.mark.parametrize(("attempts", "delay"), [(1, 1), (2, 2), (3, 4), (10, 300)])
def test_backoff_doubles_up_to_the_maximum(attempts, delay):
    assert backoff(attempts, 1.0, 300.0) == delay


def test_a_submit_slower_than_the_lease_is_not_sent_twice_by_this_process(
    sessionmaker, clock, rows, now
):
    queue(sessionmaker, now, 1)
    link = FakeLink()
    start_sender(sessionmaker, clock, link, lease=60.0)
    clock.advance(120)  # the row's claim lease ran out while the link still waits
    assert len(link.sent) == 1
    link.accept("5")
    assert states(rows) == ["sent"]


def test_one_claim_holds_rows_for_many_freed_slots(sessionmaker, clock, rows, now):
    """Prefetch: the rows beyond the window wait claimed in memory, not one claim a slot."""
    queue(sessionmaker, now, 6)
    link = FakeLink(window=1)
    sender = start_sender(sessionmaker, clock, link, batch=10)
    assert len(link.sent) == 1 and states(rows) == ["sending"] * 6
    for _ in range(5):
        link.accept()
    link.accept()
    assert states(rows) == ["sent"] * 6 and sender.claims == 1


def test_held_rows_have_their_lease_renewed_before_it_runs_out(sessionmaker, clock, rows,
                                                               now):
    queue(sessionmaker, now, 2)
    link = FakeLink(window=1)
    sender = start_sender(sessionmaker, clock, link, lease=60.0)
    clock.advance(40)  # the held row is past half its lease: renewed on the poll
    held = rows(Outbox)[1]
    assert held["state"] == "sending" and sender.renewed == 1
    assert (held["lease_until"] - now).total_seconds() == pytest.approx(100)
    clock.advance(40)  # beyond the first lease: still held here, not claimed twice
    link.accept()
    link.accept()
    assert states(rows) == ["sent", "sent"] and len(link.sent) == 2
    assert rows(Outbox)[1]["attempts"] == 1  # the held row was never claimed again


def test_held_rows_are_given_back_on_stop(sessionmaker, clock, rows, now):
    queue(sessionmaker, now, 3)
    link = FakeLink(window=1)
    sender = start_sender(sessionmaker, clock, link)
    sender.stopService()
    assert states(rows) == ["sending", "queued", "queued"]
    assert [r["attempts"] for r in rows(Outbox)] == [1, 0, 0]


def test_a_row_held_past_its_lease_is_left_to_be_claimed_again(sessionmaker, clock, rows,
                                                               now):
    """If the renewal could not run (database away), the row is not sent on a stale claim."""
    queue(sessionmaker, now, 2)
    link = FakeLink(window=1)
    worker = DbWorker(sessionmaker, InlineReactor(), pool=ImmediatePool())
    sender = OutboxSender(worker, clock, [link], lease=60.0, poll_interval=1000.0)
    sender.startService()
    clock.advance(61)  # no poll in between: the held row's lease ran out unrenewed
    link.accept()  # the freed slot: the stale row is dropped, claimed afresh, then sent
    assert len(link.sent) == 2 and states(rows)[1] == "sending"
    assert rows(Outbox)[1]["attempts"] == 2 and sender.renewed == 0


def test_claims_look_for_expired_leases_only_every_few_seconds(sessionmaker, clock, rows, now):
    """A row whose claim ran out (its process died) is found by the next claim that looks
    for expired leases, at most `expired_scan_interval` after the last one, not by every
    claim: that search reads every row being sent."""
    queue(sessionmaker, now, 1)
    with sessionmaker.begin() as session:
        (dead,) = outbox.claim_due(session, now, 1, 60)  # a process claimed it and died
    link = FakeLink(window=10)
    sender = start_sender(sessionmaker, clock, link, lease=60.0, expired_scan_interval=5.0)
    clock.advance(58)  # one poll (the clock jumps), at 58: it looks, but the dead claim runs to 60
    queue(sessionmaker, now, 1)
    clock.advance(3)  # 61 s: the dead claim ran out; the poll claims the new row without looking
    assert [m.text for m in link.sent] == ["part 0"]
    assert rows(Outbox)[0]["attempts"] == 1
    clock.advance(2)  # 63 s: five after the look at 58, the next claim looks
    assert sorted(m.outbox_id for m in link.sent) == sorted([dead.id, dead.id + 1])
    assert rows(Outbox)[0]["attempts"] == 2 and sender.claimed == 2
