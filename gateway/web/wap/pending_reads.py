"""One read of an enterprise's pending documents for all its managers' lists (issue 6).

When a change of an enterprise commits, the cached lists of all its managers are dropped
(pending_cache) and each manager's next reload misses. Instead of one database read per
manager (200 rebuilds queueing behind each other), the first miss starts one read of the
enterprise's pending documents (``approvals.pending_in_enterprise``) and every miss of
the same enterprise meanwhile waits for that read; each manager's list is then filtered
from it in memory.

A read carries the enterprise's cache generation as it was *before* the read began: it
is kept, and pages built from it are kept, only while that generation is current, so a
read that started before a commit is never taken for the state after it. A request that
arrives after a bump does not join a read begun before the bump; it starts its own.
Kept reads expire ``ttl`` seconds after they began (the same backstop as the pages).

Reactor-thread only: ``get`` is called by the resource, reads complete on the reactor.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twisted.internet.defer import Deferred, succeed

from erpcore.approvals import EnterprisePending
from gateway.web.wap.pending_cache import PendingCache

MAX_KEPT = 1_000  # enterprises whose read is kept at once


@dataclass(frozen=True)
class SharedRead:
    """An enterprise's pending documents, read once for all its managers."""

    generation: int  # the cache generation read before the data
    read_at: float  # when the read began: data no older than this
    approval_open: bool  # the approval service is open for the enterprise
    pending: EnterprisePending

    def expires(self, ttl: float) -> float:
        return self.read_at + ttl


class PendingReads:
    """enterprise -> the current ``SharedRead``; at most one read per enterprise and
    generation in flight. ``read(enterprise_id)`` does the blocking work elsewhere (the
    web pool) and returns a Deferred of ``(approval_open, EnterprisePending)``."""

    def __init__(self, cache: PendingCache, read: Callable[[int], Deferred], max_kept: int = MAX_KEPT):
        self._cache, self._read, self._max_kept = cache, read, max_kept
        self._kept: dict[int, SharedRead] = {}
        self._in_flight: dict[int, tuple[int, list[Deferred]]] = {}
        self.reads = 0  # reads started, for the tests and the benchmark

    def get(self, enterprise_id: int, now: float) -> Deferred:
        """A Deferred of the enterprise's current ``SharedRead``."""
        generation = self._cache.generation(enterprise_id)
        kept = self._kept.get(enterprise_id)
        if kept is not None and kept.generation == generation and now < kept.expires(self._cache.ttl):
            return succeed(kept)
        waiting = Deferred()
        flight = self._in_flight.get(enterprise_id)
        if flight is not None and flight[0] == generation:
            flight[1].append(waiting)
            return waiting
        waiters = [waiting]
        self._in_flight[enterprise_id] = (generation, waiters)
        self.reads += 1
        read = self._read(enterprise_id)
        read.addCallback(lambda found: SharedRead(generation, now, *found))
        read.addBoth(self._done, enterprise_id, generation, waiters)
        return waiting

    def _done(self, result, enterprise_id: int, generation: int, waiters: list[Deferred]) -> None:
        flight = self._in_flight.get(enterprise_id)
        if flight is not None and flight[1] is waiters:
            del self._in_flight[enterprise_id]
        if (isinstance(result, SharedRead) and self._cache.ttl > 0
                and generation == self._cache.generation(enterprise_id)):
            if len(self._kept) >= self._max_kept and enterprise_id not in self._kept:
                self._kept.clear()
            self._kept[enterprise_id] = result
        for waiting in waiters:
            if isinstance(result, SharedRead):
                waiting.callback(result)
            else:
                waiting.errback(result)
        return None
