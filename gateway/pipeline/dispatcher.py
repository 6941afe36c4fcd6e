"""Runs the command of every stored MO and queues its reply: the transactional outbox.

Per MO, one savepoint inside the batch's transaction holds the business change (made by
`commands.handle` through the session); the reply's outbox rows, the command_log rows and
the "done" marks of the whole batch are then written together, a few statements for all
MOs, in the same transaction: all of them or none (ARCHITECTURE.md, "Message path",
step 3). If that batch write fails (say, another process already logged one of the MOs),
a savepoint around the whole batch rolls every change back and the batch is done again
one MO at a time, each MO's change and writes in its own savepoint, so one bad MO costs
only itself. A command that raises is rolled back to its savepoint and the user still
gets a short "system busy" reply, logged with ok=False, so no MO is ever stuck. An MO that was
already claimed `max_attempts` times (its batch kept dying) is answered the same way
without running the command again.

It runs on start-up (resume), when the inbox writer stored new MOs, and on a timer
(abandoned claims whose lease ran out, long MOs whose parts stopped coming).
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from twisted.python.failure import Failure

from erpcore import inbox, outbox
from gateway.messages import InboundSms
from gateway.pipeline.routing import Router
from gateway.pipeline.db_worker import DbWorker, clock_now
from gateway.pipeline.parts import ConcatRefs, default_split, outbox_parts
from gateway.pipeline.polling import PollingService

log = logging.getLogger(__name__)

ERROR_REPLY = "系统繁忙,请稍后再试 / System busy, please try later"
ERROR_COMMAND = "error"
#: Replies longer than this are cut before splitting (a split past 255 parts fails).
MAX_REPLY_CHARS = 4000


def default_handle():
    from commands import handle

    return handle


class Dispatcher(PollingService):
    name = "dispatcher"

    def __init__(
        self,
        worker: DbWorker,
        clock,
        service_code: str,
        handle: Callable | None = None,
        split: Callable | None = None,
        batch: int = 200,
        lease: float = 60.0,
        max_attempts: int = 5,
        part_timeout: float = 300.0,
        seen_retention: float = 86400.0,
        poll_interval: float = 1.0,
        on_queued: Callable[[], None] | None = None,
        rng: random.Random | None = None,
        router: Router | None = None,
    ):
        self._worker = worker
        self._clock = clock
        self._service_code = service_code
        self._router = router or Router(service_code)
        self._handle = handle or default_handle()
        self._split = split or default_split()
        self._batch = batch
        self._lease = timedelta(seconds=lease)
        self._max_attempts = max_attempts
        self._part_timeout = timedelta(seconds=part_timeout)
        self._seen_retention = timedelta(seconds=seen_retention)
        self._poll_interval = poll_interval
        self.on_queued = on_queued
        self._refs = ConcatRefs(rng)
        self._running = False
        self._again = False
        # metrics
        self.handled = 0
        self.command_errors = 0
        self.given_up = 0
        self.failed_batches = 0
        self.expired_long = 0

    # -- service ----------------------------------------------------------------------

    def poll(self) -> None:
        self.tick()

    def tick(self) -> None:
        """Periodic: expire stalled long MOs, then look for work (resume, lease expiry)."""
        now = clock_now(self._clock)
        d = self._worker.run(
            inbox.expire_parts, now - self._part_timeout, now - self._seen_retention
        )
        d.addCallbacks(self._expired, self._housekeeping_failed)

    def _expired(self, count: int) -> None:
        self.expired_long += count
        self.wake()

    def _housekeeping_failed(self, failure) -> None:
        log.error("expiring long MO parts failed: %s", failure.getErrorMessage())
        self.wake()

    # -- the claim / dispatch loop ------------------------------------------------------

    def wake(self) -> None:
        """Look for MOs now (coalesced: at most one pass in flight)."""
        if self._running:
            self._again = True
            return
        self._running = True
        self._again = False
        now = clock_now(self._clock)
        d = self._worker.run(inbox.claim, self._batch, now, self._lease)
        d.addCallback(self._dispatch_claimed)
        d.addBoth(self._pass_done)

    def _dispatch_claimed(self, mos: list[inbox.StoredMo]):
        if not mos:
            return 0
        d = self._worker.run(self.dispatch_batch, mos, clock_now(self._clock))
        d.addCallback(lambda queued: (len(mos), queued))
        return d

    def _pass_done(self, result) -> None:
        self._running = False
        if isinstance(result, Failure):
            # The batch rolled back; its MOs are claimed again once their lease runs out.
            self.failed_batches += 1
            log.error("dispatch pass failed: %s", result.getErrorMessage())
            return
        claimed, queued = result if isinstance(result, tuple) else (0, 0)
        if queued and self.on_queued is not None:
            self.on_queued()
        if claimed >= self._batch or self._again:
            self.wake()

    # -- in the db thread ---------------------------------------------------------------

    def dispatch_batch(self, session, mos: list[inbox.StoredMo], now) -> int:
        """Handle each MO in its own savepoint; returns how many outbox parts were queued."""
        inbox.renew(session, [mo.id for mo in mos], now + self._lease)
        counts = _Counts()
        try:
            with session.begin_nested():
                writes = _Writes()
                for mo in mos:
                    self._dispatch_one(session, mo, now, counts, writes)
                queued = writes.flush(session, now)
        except Exception:
            log.exception("writing the replies of %d MOs at once failed; one by one now",
                          len(mos))
            counts = _Counts()
            queued = sum(self._dispatch_one(session, mo, now, counts) for mo in mos)
        self.handled += counts.handled
        self.command_errors += counts.errors
        self.given_up += counts.given_up
        return queued

    def _dispatch_one(self, session, mo: inbox.StoredMo, now, counts, writes=None) -> int:
        """Run one MO's command in a savepoint; its writes go to `writes` (the batch's,
        written later) or, without one, to the database at once inside the savepoint."""
        if mo.attempts <= self._max_attempts:
            try:
                with session.begin_nested():
                    sms = InboundSms(
                        link=mo.link, sender=mo.sender, recipient=mo.recipient,
                        text=mo.text, smsc_id=mo.smsc_id,
                    )
                    code = self._router.service_code(mo.link, mo.recipient)
                    result = self._handle(session, sms, code)
                    queued = self._finish(
                        session, writes, mo, now, result.reply, result.command, result.ok,
                        result.enterprise_id, result.user_id,
                    )
                counts.handled += 1
                return queued
            except Exception:
                counts.errors += 1
                log.exception("command for MO %s from %s failed; answering 'busy'",
                              mo.id, mo.sender)
        else:
            counts.given_up += 1
            log.error("MO %s claimed %d times; answering 'busy' without running it",
                      mo.id, mo.attempts)
        try:
            with session.begin_nested():
                return self._finish(session, writes, mo, now, ERROR_REPLY, ERROR_COMMAND, False)
        except Exception:
            # Typically: another process already logged it (unique command_log.inbox_id).
            log.exception("could not answer MO %s; it is retried after its lease", mo.id)
            return 0

    def _finish(self, session, writes, mo, now, reply, command, ok, enterprise_id=None,
                user_id=None):
        parts = self.reply_parts(mo, reply) if reply else []
        log_row = inbox.command_log_row(mo.id, command or "", bool(ok), now, enterprise_id,
                                        user_id)
        if writes is not None:
            writes.add(parts, log_row, mo.id)
            return len(parts)
        outbox.enqueue(session, parts, now)
        inbox.log_commands(session, [log_row])
        inbox.mark_done(session, [mo.id], now)
        return len(parts)

    def reply_parts(self, mo: inbox.StoredMo, reply: str) -> list[outbox.OutboxPart]:
        """The reply as outbox parts, from the address the MO was sent to."""
        return outbox_parts(
            reply[:MAX_REPLY_CHARS], mo.recipient, mo.sender, self._split, self._refs,
            fallback=ERROR_REPLY, what=f"reply to MO {mo.id}", inbox_id=mo.id, link=mo.link,
        )


class _Counts:
    """Metrics of one batch, added to the dispatcher's once the batch is through."""

    def __init__(self):
        self.handled = self.errors = self.given_up = 0


class _Writes:
    """The batch's outbox parts, command_log rows and done ids, written together."""

    def __init__(self):
        self.parts: list[outbox.OutboxPart] = []
        self.log_rows: list[dict] = []
        self.done: list[int] = []

    def add(self, parts, log_row: dict, inbox_id: int) -> None:
        self.parts.extend(parts)
        self.log_rows.append(log_row)
        self.done.append(inbox_id)

    def flush(self, session, now) -> int:
        queued = outbox.enqueue(session, self.parts, now) if self.parts else 0
        if self.log_rows:
            inbox.log_commands(session, self.log_rows)
        if self.done:
            inbox.mark_done(session, self.done, now)
        return queued
