"""Stores MOs and delivery receipts with group commit, then lets the link acknowledge.

The link calls `handle_inbound` / `handle_receipt` for every deliver_sm and answers the
SMS centre only when the returned Deferred fires, i.e. after the message is committed
(the no-loss rule). While a write is in flight, whatever arrives waits; when a write
ends, everything that waited goes to the database in one transaction, so the commit cost
is shared and acknowledging after the commit stays cheap under load. With MySQL/MariaDB
up to `concurrency` writes may be in flight at once (each on its own connection): the SMS
centre keeps only a few messages unacknowledged (its window), so the time from arrival
to acknowledgement sets the pace, and a second write need not wait for the first. The
same MO in two of them at once is stored by one; the other write fails on the unique
key, its messages are answered with an error and come again, found then as duplicates.
If a write fails, every Deferred of that batch errbacks: the link answers with a
transient error and the SMS centre delivers again later (duplicates are then recognised
by the store).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from twisted.internet.defer import Deferred

from erpcore import inbox, outbox
from gateway.pipeline.db_worker import ACK, DbWorker, clock_now

log = logging.getLogger(__name__)

MO = "mo"
RECEIPT = "receipt"


def write_batch(session, mos: Sequence, receipts: Sequence, now) -> tuple[list[str], int]:
    """One transaction: store the MOs, apply the receipts. Plain data back."""
    results = inbox.store(session, mos, now) if mos else []
    matched = outbox.record_receipts(session, receipts, now) if receipts else 0
    return results, matched


class InboxWriter:
    """The pipeline's InboundHandler (see gateway.smpp.link)."""

    def __init__(
        self,
        worker: DbWorker,
        clock,
        on_stored: Callable[[], None] | None = None,
        max_batch: int = 1000,
        concurrency: int = 1,
    ):
        self._worker = worker
        self._clock = clock
        self.on_stored = on_stored
        self._max_batch = max_batch
        self._concurrency = max(1, concurrency)
        self._waiting: list[tuple[str, object, Deferred]] = []
        self._in_flight = 0
        # metrics
        self.batches = 0
        self.stored = 0
        self.duplicates = 0
        self.parts = 0
        self.receipts = 0
        self.receipts_matched = 0
        self.failed_batches = 0

    def handle_inbound(self, msg) -> Deferred:
        """Fires with "stored", "duplicate" or "part" once the MO is committed."""
        return self._enter(MO, msg)

    def handle_receipt(self, report) -> Deferred:
        """Fires (with None) once the receipt is committed (matched or kept as orphan)."""
        return self._enter(RECEIPT, report)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _enter(self, kind: str, item) -> Deferred:
        d = Deferred()
        self._waiting.append((kind, item, d))
        self._write_next()
        return d

    def _write_next(self) -> None:
        if self._in_flight >= self._concurrency or not self._waiting:
            return
        batch = self._waiting[: self._max_batch]
        del self._waiting[: self._max_batch]
        self._in_flight += 1
        self.batches += 1
        mos = [item for kind, item, _ in batch if kind == MO]
        receipts = [item for kind, item, _ in batch if kind == RECEIPT]
        d = self._worker.run(write_batch, mos, receipts, clock_now(self._clock), priority=ACK)
        d.addCallbacks(self._written, self._failed, callbackArgs=(batch,), errbackArgs=(batch,))

    def _written(self, outcome, batch) -> None:
        results, matched = outcome
        self._in_flight -= 1
        self.receipts += len(batch) - len(results)
        self.receipts_matched += matched
        self.stored += results.count(inbox.STORED)
        self.duplicates += results.count(inbox.DUPLICATE)
        self.parts += results.count(inbox.PART)
        answers = iter(results)
        for kind, _item, d in batch:
            d.callback(next(answers) if kind == MO else None)
        if inbox.STORED in results and self.on_stored is not None:
            self.on_stored()
        self._write_next()

    def _failed(self, failure, batch) -> None:
        self._in_flight -= 1
        self.failed_batches += 1
        log.error("inbox write of %d items failed, SMSC will redeliver: %s",
                  len(batch), failure.getErrorMessage())
        for _kind, _item, d in batch:
            d.errback(failure)
        self._write_next()
