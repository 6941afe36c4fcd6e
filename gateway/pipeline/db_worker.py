"""The thread pool that runs every database unit of work of the pipeline.

The reactor thread does network I/O only; blocking SQLAlchemy calls run here, one
session and one transaction per call, and hand back plain data (never ORM objects that
could lazy-load on the reactor thread). One thread for SQLite (one writer anyway),
several for MySQL/MariaDB.

Units of work wait in priority lanes, and the pool is given no more than it has threads:
whatever the SMS centre waits for (storing MOs and receipts before they are acknowledged:
its window is only a few messages wide) runs before claims and command batches that
were asked for earlier, so the acknowledgement waits for at most the units already
running, not for a queue of them.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

#: Priorities, most urgent first: what the SMS centre waits for; submit outcomes (they
#: free the sender's bookkeeping); everything else.
ACK, OUTCOME, WORK = 0, 1, 2
PRIORITIES = (ACK, OUTCOME, WORK)


def clock_now(clock) -> datetime:
    """The clock's time as the naive UTC datetime the store keeps."""
    return datetime.fromtimestamp(clock.seconds(), timezone.utc).replace(tzinfo=None)


class DbWorker(Service):
    """Owns the pool; `run(fn, *args)` calls ``fn(session, *args)`` in one transaction."""

    name = "db-worker"

    def __init__(self, sessions, reactor, threads: int = 1, pool: ThreadPool | None = None):
        self._sessions = sessions
        self._reactor = reactor
        self.threads = max(1, threads)
        self.pool = pool if pool is not None else ThreadPool(1, self.threads, "merp-db")
        self._lanes: dict[int, deque] = {priority: deque() for priority in PRIORITIES}
        self._busy = 0  # units handed to the pool and not finished
        self._feeding = False
        self.calls = 0
        self.failures = 0

    def startService(self) -> None:
        super().startService()
        self.pool.start()

    def stopService(self):
        super().stopService()
        # Whatever still waits goes to the pool as before: it runs or stops with it.
        for priority in PRIORITIES:
            lane = self._lanes[priority]
            while lane:
                self._start(*lane.popleft())
        self.pool.stop()

    @property
    def waiting(self) -> int:
        """Units queued here, not yet handed to the pool."""
        return sum(len(lane) for lane in self._lanes.values())

    def run(self, fn: Callable[..., Any], *args: Any, priority: int = WORK, **kwargs: Any) -> Deferred:
        """A Deferred firing with fn's result after the commit (errback: rolled back)."""
        if priority not in self._lanes:
            raise ValueError(f"unknown priority {priority!r}")
        self.calls += 1
        d = Deferred()
        self._lanes[priority].append((d, fn, args, kwargs))
        self._feed()
        return d

    def _feed(self) -> None:
        """Hand the most urgent waiting units to the pool while it has a free thread."""
        if self._feeding:
            return  # a unit finished inline (a test pool): the loop below goes on
        self._feeding = True
        try:
            while self._busy < self.threads:
                job = self._next()
                if job is None:
                    break
                self._start(*job)
        finally:
            self._feeding = False

    def run_transactions(self, fn: Callable[..., Any], *args: Any, priority: int = WORK,
                         **kwargs: Any) -> Deferred:
        """Like `run`, for a unit of several transactions in a row on one thread:
        ``fn(sessions, *args)`` opens each with ``sessions.begin()`` (one thread hop for
        what would otherwise be several)."""
        return self.run(_Transactions(fn), *args, priority=priority, **kwargs)

    def _next(self):
        for priority in PRIORITIES:
            lane = self._lanes[priority]
            if lane:
                return lane.popleft()
        return None

    def _start(self, d: Deferred, fn, args, kwargs) -> None:
        self._busy += 1
        unit = deferToThreadPool(self._reactor, self.pool, self._unit, fn, args, kwargs)
        unit.addBoth(self._finished, d)

    def _finished(self, result, d: Deferred) -> None:
        self._busy -= 1
        self._feed()
        if isinstance(result, Failure):
            self.failures += 1
            d.errback(result)
        else:
            d.callback(result)

    def _unit(self, fn, args, kwargs):
        if isinstance(fn, _Transactions):
            return fn.fn(self._sessions, *args, **kwargs)
        with self._sessions.begin() as session:
            return fn(session, *args, **kwargs)


class _Transactions:
    """Marks a unit that opens its own transactions (DbWorker.run_transactions)."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
