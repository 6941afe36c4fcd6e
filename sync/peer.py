"""The sync driver of one side towards its peer: heartbeats, scan-and-push cycles, the
periodic full sync, and the alarms. Twisted-driven; every database step goes through
``run`` and every network step through the `SyncClient`.

A cycle never overlaps another; while the peer is down cycles are skipped (sync pauses),
and the first good heartbeat after an outage clears the alarm and catches up at once.
Liveness is watched both ways: our requests failing (PEER_DOWN), and the peer's requests
no longer arriving (PEER_SILENT: it cannot reach us, or we refuse it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from twisted.internet import defer

from sync import digest
from sync.alarms import CONFLICT, ERRORS, LAG, PEER_DOWN, PEER_SILENT, Alarms
from sync.client import PeerError
from sync.http import inline
from sync.scan import FAST, FULL
from sync.sender import Outcome
from sync.threads import in_steps

log = logging.getLogger(__name__)


@dataclass
class PeerSettings:
    heartbeat_interval: float = 30.0
    fast_scan_interval: float = 10.0
    full_scan_interval: float = 3600.0
    full_sync_interval: float = 86400.0
    alarm_after_failures: int = 3
    lag_alarm_seconds: float = 600.0
    silence_alarm_seconds: float = 0.0  # 0: (alarm_after_failures + 1) heartbeat intervals
    digest_buckets: int = 256

    @property
    def silence_limit(self) -> float:
        """Seconds without a request from the peer before PEER_SILENT is raised."""
        return self.silence_alarm_seconds or (self.alarm_after_failures + 1) * self.heartbeat_interval


class SyncPeer:
    """Drives one side's tables towards the peer reachable through ``client``."""

    def __init__(self, side, client, clock, settings: PeerSettings | None = None,
                 alarms: Alarms | None = None, run=inline):
        self.side = side
        self.client = client
        self.clock = clock
        self.settings = settings or PeerSettings()
        self.alarms = alarms or Alarms(side.scope)
        self.run = run
        self.peer_up: bool | None = None
        self.failures = 0
        self.stats = {"cycles": 0, "skipped": 0, "rows_sent": 0, "rows_received": 0,
                      "conflicts": 0, "errors": 0, "failures": 0, "heartbeats": 0,
                      "lag_seconds": 0.0}
        self._busy: defer.Deferred | None = None
        self.last_heard = clock.seconds() if clock is not None else 0.0

    # -- liveness ----------------------------------------------------------------------
    @defer.inlineCallbacks
    def heartbeat(self):
        """One heartbeat; True when the peer answered. Also the time to notice that the
        peer has gone silent."""
        self.stats["heartbeats"] += 1
        self._check_silence()
        try:
            yield self.client.command("heartbeat", scope=self.side.scope)
        except PeerError as exc:
            self._failed(exc)
            return False
        recovered = self._ok()
        if recovered:
            yield self.cycle()  # catch up at once
        return True

    def _ok(self) -> bool:
        """The peer answered; True when this ends an outage that had raised an alarm."""
        self.peer_up = True
        self.failures = 0
        return self.alarms.clear(PEER_DOWN, "the peer answers again; sync resumed")

    def _failed(self, exc: Exception) -> None:
        self.peer_up = False
        self.failures += 1
        self.stats["failures"] += 1
        log.info("sync %s: peer unreachable (%d): %s", self.side.scope, self.failures, exc)
        if self.failures >= self.settings.alarm_after_failures:
            self.alarms.raise_(PEER_DOWN, f"peer unreachable {self.failures} times: "
                                          f"{str(exc)[:100]}")

    def note_heard(self) -> None:
        """An authenticated request from the peer arrived (the endpoints call this)."""
        self.last_heard = self.clock.seconds()
        self.alarms.clear(PEER_SILENT, "requests from the peer arrive again")

    def _check_silence(self) -> None:
        quiet = self.clock.seconds() - self.last_heard
        if quiet > self.settings.silence_limit:
            self.alarms.raise_(PEER_SILENT, f"no request from the peer for {quiet:.0f} s; "
                                            "it cannot reach us, or we refuse its signature")

    def note_received(self, results: list[dict]) -> None:
        """Results of rows this side applied as a receiver (conflicts it decided)."""
        decided = sum(1 for r in results if r.get("status") == "conflict")
        self.stats["rows_received"] += len(results)
        if decided:
            self.stats["conflicts"] += decided
            self.alarms.event(CONFLICT, f"{decided} rows changed on both sides; see the conflict log")

    # -- cycles ------------------------------------------------------------------------
    def cycle(self, mode: str = FAST):
        """Scan every table (``mode``) and push what changed; skipped while the peer is
        known down (a heartbeat brings it back) or while another cycle runs."""
        if self._busy is not None:
            self.stats["skipped"] += 1
            return self._busy
        if self.peer_up is False:
            self.stats["skipped"] += 1
            return defer.succeed(None)
        self._busy = d = self._cycle(mode)
        d.addBoth(self._idle)
        return d

    def _idle(self, result):
        self._busy = None
        return result

    @defer.inlineCallbacks
    def _cycle(self, mode):
        self.stats["cycles"] += 1
        outcome = Outcome()
        try:
            for table in self.side.sources:
                yield self.scan(table, mode)
                yield self.push(table, outcome)
        except PeerError as exc:
            self._failed(exc)
            return outcome
        self._ok()
        yield self._check_lag()
        self._report(outcome)
        return outcome

    @defer.inlineCallbacks
    def scan(self, table: str, mode: str = FAST):
        """Scan ``table`` a chunk per database call, so requests from the peer (and any
        other database work) run between chunks instead of after a million rows."""
        scanner = yield in_steps(self.run, self.side.scan_step, self.side.scanner(table, mode))
        return scanner.report

    @defer.inlineCallbacks
    def push(self, table: str, outcome: Outcome):
        """Finish unfinished batches of ``table`` first, then send new ones until none."""
        for batch in (yield self.run(self.side.pending_batches, table)):
            yield self._send(batch, outcome)
        last_id = 0
        while True:
            batch = yield self.run(self.side.claim, table, last_id)
            if batch is None:
                return outcome
            last_id = batch.last_id
            yield self._send(batch, outcome)

    @defer.inlineCallbacks
    def _send(self, batch, outcome):
        opened = yield self.client.command("open", table=batch.table, batch=batch.batch_id,
                                           chunks=batch.chunks)
        received = set(opened.get("received", []))
        for seq in range(batch.chunks):
            if seq not in received:
                rows = yield self.run(self.side.chunk, batch.table, batch.batch_id, seq)
                yield self.client.data(batch.table, batch.batch_id, seq, rows)
                self.stats["rows_sent"] += len(rows)
            answer = yield self.client.result(batch.batch_id, seq)
            yield self.run(self.side.take, batch.table, batch.batch_id, answer["results"], outcome)
        yield self.client.command("close", table=batch.table, batch=batch.batch_id)

    def _report(self, outcome: Outcome) -> None:
        self.stats["conflicts"] += outcome.conflicts
        self.stats["errors"] += outcome.errors
        if outcome.conflicts:
            self.alarms.event(CONFLICT, f"{outcome.conflicts} rows changed on both sides")
        if outcome.errors:
            self.alarms.raise_(ERRORS, f"the peer refused {outcome.errors} rows")
        else:
            self.alarms.clear(ERRORS, "no rows refused")

    @defer.inlineCallbacks
    def _check_lag(self):
        count, oldest = yield self.run(self.side.backlog)
        lag = 0.0 if not count or oldest is None else max(0.0, self.clock.seconds() - oldest / 1000)
        self.stats["lag_seconds"] = lag
        if lag > self.settings.lag_alarm_seconds:
            self.alarms.raise_(LAG, f"{count} changes waiting, oldest {lag:.0f} s")
        else:
            self.alarms.clear(LAG, "sync lag back to normal")

    # -- full sync ---------------------------------------------------------------------
    @defer.inlineCallbacks
    def full_sync(self):
        """Compare bucket digests with the peer; mark and send only differing rows.
        This side's version wins for the differing rows (run it on the authority side)."""
        if self.peer_up is False:
            return 0
        buckets = self.settings.digest_buckets
        marked = 0
        try:
            for table in self.side.sources:
                yield self.scan(table, FULL)
                yield self.push(table, Outcome())
                theirs = (yield self.client.command("digest", table=table, buckets=buckets))["digests"]
                ours = yield in_steps(self.run, self.side.digest_step,
                                      self.side.digest_pass(table, buckets))
                wanted = digest.differing_buckets(ours.digests, theirs)
                if not wanted:
                    continue
                rows = (yield self.client.command("row_digests", table=table, buckets=buckets,
                                                  wanted=wanted))["rows"]
                ours = yield in_steps(self.run, self.side.digest_step,
                                      self.side.digest_pass(table, buckets, wanted, keep_rows=True))
                marked += yield self.run(self.side.mark_differing, table, rows, buckets, wanted,
                                         ours.rows)
                yield self.push(table, Outcome())
        except PeerError as exc:
            self._failed(exc)
            return marked
        self._ok()
        return marked

    # -- scheduling --------------------------------------------------------------------
    def _logged(self, name, job):
        def run():
            d = defer.maybeDeferred(job)
            d.addErrback(lambda f: log.error("sync %s: %s job failed: %s", self.side.scope, name,
                                             f.getTraceback()))
        return run

    def schedule(self, scheduler, reactor) -> None:
        """Add this peer's jobs to an APScheduler TwistedScheduler. Its jobs run in a
        thread pool, so each hands its work to the reactor thread."""
        s = self.settings
        jobs = (("heartbeat", self.heartbeat, s.heartbeat_interval),
                ("fast", lambda: self.cycle(FAST), s.fast_scan_interval),
                ("full", lambda: self.cycle(FULL), s.full_scan_interval),
                ("digest", self.full_sync, s.full_sync_interval))
        for name, job, every in jobs:
            scheduler.add_job(reactor.callFromThread, "interval", args=[self._logged(name, job)],
                              seconds=every,
                              id=f"sync:{self.side.scope}:{name}", max_instances=1,
                              coalesce=True, replace_existing=True)
