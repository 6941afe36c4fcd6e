"""The thread pool that runs every database unit of work of the pipeline.

The reactor thread does network I/O only; blocking SQLAlchemy calls run here, one
session and one transaction per call, and hand back plain data (never ORM objects that
could lazy-load on the reactor thread). One thread for SQLite (one writer anyway),
several for MySQL/MariaDB.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool


def clock_now(clock) -> datetime:
    """The clock's time as the naive UTC datetime the store keeps."""
    return datetime.fromtimestamp(clock.seconds(), timezone.utc).replace(tzinfo=None)


class DbWorker(Service):
    """Owns the pool; `run(fn, *args)` calls ``fn(session, *args)`` in one transaction."""

    name = "db-worker"

    def __init__(self, sessions, reactor, threads: int = 1, pool: ThreadPool | None = None):
        self._sessions = sessions
        self._reactor = reactor
        self.pool = pool if pool is not None else ThreadPool(1, max(1, threads), "merp-db")
        self.calls = 0
        self.failures = 0

    def startService(self) -> None:
        super().startService()
        self.pool.start()

    def stopService(self):
        super().stopService()
        self.pool.stop()

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Deferred:
        """A Deferred firing with fn's result after the commit (errback: rolled back)."""
        self.calls += 1
        d = deferToThreadPool(self._reactor, self.pool, self._unit, fn, args, kwargs)
        d.addErrback(self._count_failure)
        return d

    def _unit(self, fn, args, kwargs):
        with self._sessions.begin() as session:
            return fn(session, *args, **kwargs)

    def _count_failure(self, failure):
        self.failures += 1
        return failure
