"""Submits queued replies through the links as their windows allow; records the outcome.

It keeps up to `batch` claimed rows in memory (prefetch) and submits from them as window
slots free, claiming again when fewer than half are left: one claim transaction serves
many replies instead of one per freed slot. Held rows keep their claim lease; a crash
leaves them to be claimed again after it (at-least-once toward the SMS centre), rows held
past half their lease have it renewed in one UPDATE, and a clean stop releases them.
It wakes when a link says it is ready (bound, or a slot freed), when the dispatcher
queued replies, and on a timer (retries that became due, leases that ran out after a
crash: those it looks for every few seconds only). Outcomes (message id, retry with
exponential backoff, final failure) are written in batches: while one write is in flight
the next ones collect.
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from datetime import timedelta

from twisted.application.service import Service
from twisted.internet.defer import DeferredList, fail, succeed
from twisted.internet.task import LoopingCall

from erpcore import outbox
from gateway.messages import ConcatInfo, OutboundSms
from gateway.pipeline.db_worker import OUTCOME, DbWorker, clock_now
from gateway.pipeline.routing import Router

log = logging.getLogger(__name__)


def record_outcomes(session, submitted, retries, failures, now) -> int:
    """One transaction for a batch of submit outcomes; returns receipts matched late."""
    for outbox_id, at, error in retries:
        outbox.mark_retry(session, outbox_id, at, error)
    for outbox_id, error in failures:
        outbox.mark_failed(session, outbox_id, error)
    return outbox.mark_submitted(session, submitted, now)


def housekeeping(session, now, orphan_older_than) -> int:
    """Match receipts that raced their submit record; forget very old orphans."""
    matched = outbox.rematch_orphans(session, now)
    outbox.prune_orphans(session, orphan_older_than)
    return matched


def backoff(attempts: int, initial: float, maximum: float) -> float:
    """Seconds before the next try after `attempts` tries: initial, 2x, 4x ... capped."""
    return min(maximum, initial * 2 ** max(0, attempts - 1))


def to_outbound(row: outbox.DueSms) -> OutboundSms:
    concat = None
    if row.concat_total and row.concat_total > 1:
        concat = ConcatInfo(row.concat_ref or 0, row.concat_total, row.concat_number or 1)
    return OutboundSms(
        outbox_id=row.id, sender=row.sender, recipient=row.recipient, text=row.text,
        coding=row.coding, concat=concat,
    )


class OutboxSender(Service):
    name = "outbox-sender"

    def __init__(
        self,
        worker: DbWorker,
        clock,
        links: Sequence = (),
        batch: int = 200,
        lease: float = 60.0,
        max_attempts: int = 8,
        retry_initial: float = 1.0,
        retry_max: float = 300.0,
        poll_interval: float = 1.0,
        housekeeping_interval: float = 30.0,
        orphan_retention: float = 86400.0,
        router: Router | None = None,
        expired_scan_interval: float = 5.0,
    ):
        self._worker = worker
        self.router = router or Router("")
        self._clock = clock
        self.links: list = []
        self._batch = batch
        self._lease = timedelta(seconds=lease)
        self._max_attempts = max_attempts
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._poll_interval = poll_interval
        self._housekeeping_interval = housekeeping_interval
        # Claims look for rows whose lease ran out (another process died holding them)
        # at most this often: the search reads every row being sent.
        self._expired_scan_interval = timedelta(seconds=expired_scan_interval)
        self._next_expired_scan = None
        self._orphan_retention = timedelta(seconds=orphan_retention)
        # Claimed rows not yet submitted, oldest claim first, with their lease's end.
        self._held: deque[tuple[outbox.DueSms, object]] = deque()
        self._held_ids: set[int] = set()
        self._low_water = max(1, batch // 2)
        self._in_flight: set[int] = set()  # outbox ids submitted, answer pending
        self._claiming = False
        self._claim_again = False  # new rows may have been queued during a claim
        self._drained = False  # the last claim found fewer rows than it asked for
        self._renewing = False
        self._submitted: list[tuple[int, str]] = []
        self._retries: list[tuple[int, object, str]] = []
        self._failures: list[tuple[int, str]] = []
        self._recording = None  # Deferred of the outcome write in flight
        self._loops: list[LoopingCall] = []
        # metrics
        self.claimed = 0
        self.submitted = 0
        self.retried = 0
        self.failed = 0
        self.late_receipts = 0
        self.claims = 0
        self.renewed = 0
        for link in links:
            self.add_link(link)

    def add_link(self, link) -> None:
        self.links.append(link)
        link.add_ready_listener(self._link_ready)

    # -- service ----------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        for interval, fn in ((self._poll_interval, self.wake),
                             (self._housekeeping_interval, self._housekeep)):
            loop = LoopingCall(fn)
            loop.clock = self._clock
            loop.start(interval, now=True)
            self._loops.append(loop)

    def stopService(self):
        super().stopService()
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops = []
        self._record()
        waits = [self._release_held()]
        if self._recording is not None:
            waits.append(self._recording)
        return DeferredList(waits)

    def _release_held(self):
        """Give claimed-but-unsent rows back to the queue (else they wait out the lease)."""
        ids = [row.id for row, _ in self._held]
        self._held.clear()
        self._held_ids.clear()
        if not ids:
            return succeed(None)
        d = self._worker.run(outbox.release, ids)
        d.addErrback(lambda f: log.warning("releasing %d held replies failed (claimed again "
                                           "after their lease): %s", len(ids),
                                           f.getErrorMessage()))
        return d

    # -- choosing a link ----------------------------------------------------------------

    def choose_link(self, row: outbox.DueSms):
        """The link for this row: the one it came by if that can take it now, else a bound
        link with a free slot that serves the address it is sent from (routing by service
        code); None when no such link can take it now."""
        ready = [link for link in self.links if link.bound and link.capacity() > 0]
        return self.router.choose(row.sender, row.link, ready)

    def capacity(self) -> int:
        return sum(link.capacity() for link in self.links if link.bound)

    # -- claim and submit -----------------------------------------------------------------

    def wake(self) -> None:
        """New rows may be due: submit held rows, then claim when few are held."""
        self._drained = False
        if self._claiming:
            self._claim_again = True
        self._link_ready()

    def _link_ready(self) -> None:
        """A link bound or a slot freed: submit held rows; claim more only when the
        last claim did not find the queue empty (a wake says when there is more)."""
        self._submit_held()
        self._record()  # a write that failed earlier is tried again
        if self._claiming or not self.running or self._drained:
            return
        if not any(link.bound for link in self.links):
            return  # nothing could take them: leave them to other processes
        now = clock_now(self._clock)
        self._check_leases(now)
        if len(self._held) > self._low_water:
            return
        want = self._batch - len(self._held)
        if want <= 0:
            return
        self._claiming = True
        self._claim_again = False
        self.claims += 1
        expired = self._next_expired_scan is None or now >= self._next_expired_scan
        if expired:
            self._next_expired_scan = now + self._expired_scan_interval
        d = self._worker.run(outbox.claim_due, now, want, self._lease, expired)
        d.addCallbacks(self._claimed, self._claim_failed, callbackArgs=(want, now + self._lease))

    def _claimed(self, rows: list[outbox.DueSms], asked: int, lease_end) -> None:
        self._claiming = False
        self.claimed += len(rows)
        # A row still in flight here whose lease ran out (a link slower than the lease)
        # is not submitted twice by this process; its pending answer settles it.
        for row in rows:
            if row.id not in self._in_flight and row.id not in self._held_ids:
                self._held.append((row, lease_end))
                self._held_ids.add(row.id)
        self._drained = len(rows) < asked and not self._claim_again
        self._submit_held()
        if not self._drained:
            self._link_ready()  # there may be more due rows

    def take(self, rows: list[outbox.DueSms], lease_end) -> None:
        """Rows another part of the pipeline stored already claimed for this process (a
        dispatcher batch's replies, lease ending at `lease_end`): held and sent like
        claimed ones, without a claim of their own."""
        self.claimed += len(rows)
        for row in rows:
            if row.id not in self._in_flight and row.id not in self._held_ids:
                self._held.append((row, lease_end))
                self._held_ids.add(row.id)
        self._submit_held()

    def _claim_failed(self, failure) -> None:
        self._claiming = False
        log.error("claiming due replies failed: %s", failure.getErrorMessage())

    def _check_leases(self, now) -> None:
        """Drop held rows whose lease ran out (another claim may own them now); renew
        all held rows in one UPDATE once the oldest is past half its lease."""
        self._drop_expired(now)
        if (self._renewing or not self._held
                or self._held[0][1] - now > self._lease / 2):
            return
        until = now + self._lease
        ids = [row.id for row, _ in self._held]
        self._renewing = True
        d = self._worker.run(outbox.renew, ids, until)
        d.addCallbacks(self._renewed, self._renew_failed, callbackArgs=(set(ids), until))

    def _drop_expired(self, now) -> None:
        """Held rows are in claim order, so expired ones are at the head."""
        while self._held and self._held[0][1] <= now:
            row, _ = self._held.popleft()
            self._held_ids.discard(row.id)
            self._drained = False  # it is due again (an expired claim)
            log.warning("outbox %s was held past its lease; it is claimed again", row.id)

    def _renewed(self, _result, ids: set[int], until) -> None:
        self._renewing = False
        self.renewed += len(ids)
        self._held = deque((row, until if row.id in ids else end) for row, end in self._held)

    def _renew_failed(self, failure) -> None:
        self._renewing = False
        log.error("renewing the lease of held replies failed: %s", failure.getErrorMessage())

    def _submit_held(self) -> None:
        if not self._held:
            return
        self._drop_expired(clock_now(self._clock))
        while self._held:
            link = self.choose_link(self._held[0][0])
            if link is None:
                return
            row, _ = self._held.popleft()
            self._held_ids.discard(row.id)
            self._in_flight.add(row.id)
            try:
                d = link.submit(to_outbound(row))
            except Exception as e:  # a link bug must not stop the queue
                d = fail(e)
            d.addCallbacks(self._accepted, self._rejected,
                           callbackArgs=(row,), errbackArgs=(row,))

    def _accepted(self, smsc_id, row: outbox.DueSms) -> None:
        self._in_flight.discard(row.id)
        self.submitted += 1
        self._submitted.append((row.id, str(smsc_id)))
        self._record()

    def _rejected(self, failure, row: outbox.DueSms) -> None:
        self._in_flight.discard(row.id)
        error = failure.value
        transient = getattr(error, "transient", None)
        if transient is None:  # not SubmitRejected/LinkDown: unexpected, retry with care
            log.error("submit of outbox %s raised %r", row.id, error)
            transient = True
        reason = f"{type(error).__name__}: {error}"
        if transient and row.attempts < self._max_attempts:
            delay = backoff(row.attempts, self._retry_initial, self._retry_max)
            at = clock_now(self._clock) + timedelta(seconds=delay)
            self.retried += 1
            self._retries.append((row.id, at, reason))
        else:
            self.failed += 1
            log.warning("outbox %s to %s failed after %d attempts: %s",
                        row.id, row.recipient, row.attempts, reason)
            self._failures.append((row.id, reason))
        self._record()

    # -- recording outcomes (group commit) ---------------------------------------------

    def _record(self) -> None:
        if self._recording is not None or not (self._submitted or self._retries or self._failures):
            return
        batch = (self._submitted, self._retries, self._failures)
        self._submitted, self._retries, self._failures = [], [], []
        d = self._worker.run(record_outcomes, *batch, clock_now(self._clock), priority=OUTCOME)
        self._recording = d
        d.addCallbacks(self._recorded, self._record_failed, errbackArgs=(batch,))

    def _recorded(self, late_receipts: int) -> None:
        self._recording = None
        self.late_receipts += late_receipts
        self._record()

    def _record_failed(self, failure, batch) -> None:
        # Keep the outcomes and write them with the next batch (or on the next tick):
        # losing a message id would make the row be sent again after its lease.
        self._recording = None
        log.error("recording submit outcomes failed, keeping them: %s",
                  failure.getErrorMessage())
        submitted, retries, failures = batch
        self._submitted[:0] = submitted
        self._retries[:0] = retries
        self._failures[:0] = failures

    def _housekeep(self) -> None:
        now = clock_now(self._clock)
        self._record()  # retries a failed outcome write
        d = self._worker.run(housekeeping, now, now - self._orphan_retention)
        d.addCallbacks(self._housekept, self._housekeeping_failed)

    def _housekept(self, matched: int) -> None:
        self.late_receipts += matched

    def _housekeeping_failed(self, failure) -> None:
        log.error("receipt housekeeping failed: %s", failure.getErrorMessage())
