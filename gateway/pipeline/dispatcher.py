"""Runs the command of every stored MO and queues its reply: the transactional outbox.

A claimed batch runs in one transaction: first the batch's enterprises and senders are
looked up at once (commands.senders), then every MO's command runs through the session
(`commands.handle`), and the reply's outbox rows, the command_log rows and the "done"
marks of the whole batch are written together, a few statements for all MOs: all of them
or none (ARCHITECTURE.md, "Message path", step 3). So are the audit entries and
notifications its commands leave (erpcore.deferred: queued, one statement per table at
the batch's end). The MOs of a batch need no savepoint each, and in a batch a writing
command runs without one either (commands.runner.without_savepoints): nearly every
refusal comes before the first write, and one that comes after raises instead. If a
command raises, or the batch write fails (say, another process already logged one of the
MOs), a savepoint around the whole batch rolls every change back (the queued rows too;
what the batch left in memory is expired and its transaction memos forgotten) and the
batch is done again one MO at a time, each MO's change and writes in its own savepoint,
with the command in a savepoint of its own again, so one bad MO costs only itself: a
command that raises then is rolled back to its savepoint and the user still gets a short
"system busy" reply, logged with ok=False, so no MO is ever stuck. An MO that was already
claimed `max_attempts` times (its batch kept dying) is answered the same way without
running the command again.

It runs on start-up (resume), when the inbox writer stored new MOs, and on a timer
(abandoned claims whose lease ran out, long MOs whose parts stopped coming). After a
batch it wakes the outbox sender (replies queued) and the notifier, when a command of
the batch stored a notification. A pass claims and runs its batch in one unit of the db
worker (two transactions: the claim commits first). The batch's replies are stored
already claimed and handed to the outbox sender (`on_replies`), which need not claim them
again. With MySQL/MariaDB `passes` batches may be in flight at once (`[inbox] in_flight`),
each on its own connection (claims skip each other's rows), so that one batch's waits
for a remote server overlap another's work; a batch whose transaction fails (a deadlock)
gives its MOs back at once instead of leaving them to their lease.

An MO whose text carries a secret (a SERVICE request's password) keeps its raw text until
its command has run — a crash before that runs it again after restart — and gets the
masked text (``Outcome.kept_text``) in the batch write that logs it (erpcore.mo_texts).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from twisted.python.failure import Failure

from erpcore import deferred, inbox, mo_texts, notifications, outbox
from erpcore.db import first_database_error, transaction_lost
from erpcore.tenants import forget_transaction_memos
from gateway.messages import InboundSms
from gateway.pipeline.db_worker import DbWorker, clock_now
from gateway.pipeline.parts import ConcatRefs, default_split, outbox_parts
from gateway.pipeline.polling import PollingService
from gateway.pipeline.routing import Router

log = logging.getLogger(__name__)

ERROR_REPLY = "系统繁忙,请稍后再试 / System busy, please try later"
ERROR_COMMAND = "error"
#: Replies longer than this are cut before splitting (a split past 255 parts fails).
MAX_REPLY_CHARS = 4000


def default_handle():
    from commands import handle

    return handle


def _without_savepoints(session):
    """The command runner's batch mode (commands.runner: no savepoint per command)."""
    from commands.runner import without_savepoints

    return without_savepoints(session)


def default_handle_many():
    from commands import handle_many

    return handle_many


def default_prepare():
    from commands.senders import prepare

    return prepare


class Dispatcher(PollingService):
    name = "dispatcher"

    def __init__(
        self,
        worker: DbWorker,
        clock,
        service_code: str,
        handle: Callable | None = None,
        handle_many: Callable | None = None,
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
        prepare: Callable | None = None,
        on_notified: Callable[[], None] | None = None,
        passes: int = 1,
        on_replies: Callable | None = None,
        reply_lease: float = 60.0,
    ):
        self._worker = worker
        self._clock = clock
        self._service_code = service_code
        self._router = router or Router(service_code)
        self._handle = handle or default_handle()
        # A batch's MOs answered in one call, their commands carried out together
        # (commands.handle_many); only with the command layer's own handle unless given.
        self._handle_many = handle_many if handle_many is not None else (
            default_handle_many() if handle is None else None)
        # Looks up a batch's senders at once; only with the command layer's own handle
        # unless given (a test's handle has no use for it).
        self._prepare = prepare if prepare is not None else (default_prepare() if handle is None else None)
        self._split = split or default_split()
        self._batch = batch
        self._lease = timedelta(seconds=lease)
        self._max_attempts = max_attempts
        self._part_timeout = timedelta(seconds=part_timeout)
        self._seen_retention = timedelta(seconds=seen_retention)
        self._poll_interval = poll_interval
        self.on_queued = on_queued
        self.on_notified = on_notified
        # Given: a batch's replies are stored already claimed and handed over with the
        # end of their lease (on_replies(rows, lease_end)), the sender need not claim them.
        self.on_replies = on_replies
        self._reply_lease = timedelta(seconds=reply_lease)
        self._refs = ConcatRefs(rng)
        self._passes = max(1, passes)
        self._in_flight = 0
        self._metrics_lock = threading.Lock()
        self._again = False
        self._failed_in_a_row = 0
        # metrics
        self.handled = 0
        self.command_errors = 0
        self.given_up = 0
        self.failed_batches = 0
        self.expired_long = 0
        self.retried_batches = 0  # batches done again one MO at a time

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
        """Look for MOs now (coalesced: at most `passes` passes in flight)."""
        if self._in_flight >= self._passes:
            self._again = True
            return
        self._in_flight += 1
        self._again = False
        d = self._worker.run_transactions(self._claim_and_dispatch)
        d.addBoth(self._pass_done)

    def _pass_done(self, result) -> None:
        self._in_flight -= 1
        if isinstance(result, Failure):
            self.failed_batches += 1
            self._failed_in_a_row += 1
            first = first_database_error(result.value)
            log.error("dispatch pass failed: %s%s", first,
                      "" if first is result.value else f" (then: {result.getErrorMessage()})")
            # The pass gave its MOs back: a deadlock victim's are taken again at once. A
            # second failure in a row waits for the next poll, so that a database that
            # is down is not asked again and again.
            if self._failed_in_a_row == 1:
                self.wake()
            return
        self._failed_in_a_row = 0
        claimed, queued, notified, replies, lease_end = (
            result if isinstance(result, tuple) else (0, 0, False, [], None))
        if replies:
            self.on_replies(replies, lease_end)
        if queued > len(replies) and self.on_queued is not None:
            self.on_queued()  # replies left in the queue: the sender claims them
        if notified and self.on_notified is not None:
            self.on_notified()
        if claimed >= self._batch or self._again:
            self.wake()

    # -- in the db thread ---------------------------------------------------------------

    def _claim_and_dispatch(self, sessions) -> tuple:
        """One pass on one db thread, two transactions: the claim commits first (so that
        a batch that keeps dying still counts its attempts), then the batch runs at once
        (the claim's lease covers it: no renewal). If the batch's transaction fails (a
        deadlock, the connection lost) its MOs are given back at once rather than after
        their lease; their claims still count. The time is read here, when the unit
        starts, not when it was queued."""
        now = clock_now(self._clock)
        with sessions.begin() as session:
            mos = inbox.claim(session, self._batch, now, self._lease)
        if not mos:
            return 0, 0, False, [], None
        try:
            with sessions.begin() as session:
                outcome = self._dispatch_pass(session, mos, now, time.monotonic())
        except Exception:
            try:
                with sessions.begin() as session:
                    inbox.release(session, [mo.id for mo in mos])
            except Exception as error:
                log.warning("releasing %d MOs failed (claimed again after their lease): %s",
                            len(mos), error)
            raise
        return (len(mos), *outcome)

    def _dispatch_pass(self, session, mos, now, scheduled_at: float) -> tuple:
        """A batch of the loop: (parts queued, whether the batch stored notifications for
        the notifier to send, the replies stored already claimed for `on_replies`, the
        end of their lease)."""
        told = notifications.stored_count(session)  # every notification goes through notify
        queued, claimed = self._dispatch(session, mos, now, scheduled_at,
                                         claim_replies=self.on_replies is not None)
        notified = notifications.stored_count(session) > told
        return queued, notified, claimed, now + self._reply_lease

    def dispatch_batch(self, session, mos: list[inbox.StoredMo], now,
                       scheduled_at: float | None = None) -> int:
        """Handle the MOs of one claim; returns how many outbox parts were queued.

        `scheduled_at` (time.monotonic() when the batch was handed to the db worker): on
        MySQL/MariaDB the claim's lease is renewed only when the batch waited long for a
        thread (a quarter of the lease), else the claim's own lease covers it; None:
        always renewed."""
        return self._dispatch(session, mos, now, scheduled_at)[0]

    def _dispatch(self, session, mos, now, scheduled_at, claim_replies: bool = False):
        waited = None if scheduled_at is None else time.monotonic() - scheduled_at
        long_wait = waited is None or waited > self._lease.total_seconds() / 4
        if long_wait or not inbox.round_trip_each(session):
            # SQLite: always (it costs no round trip), so the transaction has begun with a
            # write before the first savepoint; pysqlite issues BEGIN only before a write,
            # and releasing a savepoint that began the transaction would commit it.
            inbox.renew(session, [mo.id for mo in mos], now + self._lease)
        if self._prepare is not None:
            self._prepare_senders(session, mos)
        counts = _Counts()
        claimed: list[outbox.DueSms] = []
        # Run in the order of the enterprises' numbers (each sender's own MOs keep their
        # order): two batches in flight at once, on two threads or two gateways, then take
        # the rows they both lock (an enterprise's document numbers, its stock levels) in
        # the same order, instead of deadlocking on each other's.
        mos = sorted(mos, key=_lock_order)
        try:
            with session.begin_nested():
                writes = _Writes()
                with deferred.deferring(session), _without_savepoints(session):
                    self._run_batch(session, mos, now, counts, writes)
                deferred.flush(session)  # the batch's audit entries and notifications
                queued, claimed = writes.flush(session, now, self._reply_lease if claim_replies else None)
        except Exception as error:
            if transaction_lost(error):
                raise  # nothing to retry one by one in: the pass gives the MOs back
            log.warning("a batch of %d MOs failed (%s: %s); doing it again one MO at a time",
                        len(mos), type(error).__name__, error)
            with self._metrics_lock:
                self.retried_batches += 1
            self._forget_batch(session, mos)
            counts = _Counts()
            claimed = []  # the one-by-one replies stay queued for the sender to claim
            with deferred.deferring(session):
                queued = sum(self._dispatch_one(session, mo, now, counts) for mo in mos)
        with self._metrics_lock:  # passes may run on two threads at once
            self.handled += counts.handled
            self.command_errors += counts.errors
            self.given_up += counts.given_up
        return queued, claimed

    def _prepare_senders(self, session, mos) -> None:
        """The batch's enterprises, senders and their roles at once (a failure only costs
        the queries: each MO's command then looks them up itself)."""
        try:
            self._prepare(session, [(mo, self._router.service_code(mo.link, mo.recipient)) for mo in mos])
        except Exception as error:
            if transaction_lost(error):
                raise
            log.exception("looking up the senders of %d MOs at once failed; one by one instead", len(mos))

    def _forget_batch(self, session, mos) -> None:
        """After the batch's savepoint rolled back: what the batch left in memory goes too.
        The rollback expires only the objects the unit of work changed, not those a
        command updated in SQL and then set with ``set_committed_value`` (an order it
        approved), and the transaction memos may hold what the batch read or wrote (who
        decided an order): the one-by-one run reads them afresh, senders in one go."""
        session.expire_all()
        forget_transaction_memos(session)
        if self._prepare is not None:
            self._prepare_senders(session, mos)

    def _run_batch(self, session, mos, now, counts, writes) -> None:
        """The batch's MOs, none in a savepoint of its own: an exception ends the batch's
        try. With a batch handler their commands are answered in one call."""
        runnable = [mo for mo in mos if not self._gave_up(session, mo, now, counts, writes)]
        if self._handle_many is None:
            results = [self._command(session, mo) for mo in runnable]
        else:
            results = self._handle_many(session, [
                (_sms(mo), self._router.service_code(mo.link, mo.recipient)) for mo in runnable])
        for mo, result in zip(runnable, results, strict=True):
            self._finish(
                session, writes, mo, now, result.reply, result.command, result.ok,
                result.enterprise_id, result.user_id, getattr(result, "kept_text", None),
            )
            counts.handled += 1

    def _gave_up(self, session, mo: inbox.StoredMo, now, counts, writes) -> bool:
        """Whether the MO was claimed too often (its batch kept dying): then it is answered
        "busy" without running its command again."""
        if mo.attempts <= self._max_attempts:
            return False
        counts.given_up += 1
        log.error("MO %s claimed %d times; answering 'busy' without running it", mo.id, mo.attempts)
        self._finish(session, writes, mo, now, ERROR_REPLY, ERROR_COMMAND, False,
                     kept_text=busy_kept_text(mo.text))
        return True

    def _command(self, session, mo: inbox.StoredMo):
        return self._handle(session, _sms(mo), self._router.service_code(mo.link, mo.recipient))

    def _dispatch_one(self, session, mo: inbox.StoredMo, now, counts, writes=None) -> int:
        """Run one MO's command in a savepoint; its writes go to `writes` (the batch's,
        written later) or, without one, to the database at once inside the savepoint."""
        if mo.attempts <= self._max_attempts:
            try:
                with session.begin_nested():
                    result = self._command(session, mo)
                    deferred.flush(session)  # its audit entries and notifications, in its savepoint
                    queued = self._finish(
                        session, writes, mo, now, result.reply, result.command, result.ok,
                        result.enterprise_id, result.user_id, getattr(result, "kept_text", None),
                    )
                counts.handled += 1
                return queued
            except Exception as error:
                if transaction_lost(error):
                    raise
                counts.errors += 1
                log.exception("command for MO %s from %s failed; answering 'busy'",
                              mo.id, mo.sender)
        else:
            counts.given_up += 1
            log.error("MO %s claimed %d times; answering 'busy' without running it",
                      mo.id, mo.attempts)
        try:
            with session.begin_nested():
                return self._finish(session, writes, mo, now, ERROR_REPLY, ERROR_COMMAND, False,
                                    kept_text=busy_kept_text(mo.text))
        except Exception as error:
            if transaction_lost(error):
                raise
            # Typically: another process already logged it (unique command_log.inbox_id).
            log.exception("could not answer MO %s; it is retried after its lease", mo.id)
            return 0

    def _finish(self, session, writes, mo, now, reply, command, ok, enterprise_id=None,
                user_id=None, kept_text=None):
        parts = self.reply_parts(mo, reply) if reply else []
        log_row = inbox.command_log_row(mo.id, command or "", bool(ok), now, enterprise_id,
                                        user_id)
        if writes is not None:
            writes.add(parts, log_row, mo.id, kept_text)
            return len(parts)
        outbox.enqueue(session, parts, now)
        inbox.log_commands(session, [log_row])
        inbox.mark_done(session, [mo.id], now)
        if kept_text is not None:
            mo_texts.replace_texts(session, {mo.id: kept_text})
        return len(parts)

    def reply_parts(self, mo: inbox.StoredMo, reply: str) -> list[outbox.OutboxPart]:
        """The reply as outbox parts, from the address the MO was sent to."""
        return outbox_parts(
            reply[:MAX_REPLY_CHARS], mo.recipient, mo.sender, self._split, self._refs,
            fallback=ERROR_REPLY, what=f"reply to MO {mo.id}", inbox_id=mo.id, link=mo.link,
        )


def _sms(mo: inbox.StoredMo) -> InboundSms:
    return InboundSms(link=mo.link, sender=mo.sender, recipient=mo.recipient, text=mo.text, smsc_id=mo.smsc_id)


def busy_kept_text(text: str) -> str | None:
    """What to keep of an MO answered "busy" (its command never finished): the command
    layer's masking when it can tell, else the text as it came."""
    try:
        from commands import kept_text

        return kept_text(text)
    except Exception:
        log.exception("masking the text of an MO failed; it is kept as it came")
        return None


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
        self.kept: dict[int, str] = {}  # inbox id -> masked text

    def add(self, parts, log_row: dict, inbox_id: int, kept_text: str | None = None) -> None:
        self.parts.extend(parts)
        self.log_rows.append(log_row)
        self.done.append(inbox_id)
        if kept_text is not None:
            self.kept[inbox_id] = kept_text

    def flush(self, session, now, claim_lease=None) -> tuple[int, list]:
        """Write it all; (parts queued, the parts as claimed rows when `claim_lease` is
        given and the backend can return them, else [] and they wait in the queue)."""
        claimed = None
        if self.parts and claim_lease is not None:
            claimed = outbox.enqueue_claimed(session, self.parts, now, claim_lease)
        if claimed is None:
            queued = outbox.enqueue(session, self.parts, now) if self.parts else 0
            claimed = []
        else:
            queued = len(claimed)
        if self.log_rows:
            inbox.log_commands(session, self.log_rows)
        if self.done:
            inbox.mark_done(session, self.done, now)
        mo_texts.replace_texts(session, self.kept)
        return queued, claimed


def _lock_order(mo: inbox.StoredMo) -> tuple:
    return (mo.recipient or "", mo.id)
