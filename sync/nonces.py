"""The replay memory of request signing: the nonces of accepted requests, kept for as long
as their timestamps are inside the replay window.

`StoredNonces` keeps them in the side's own database (the agent's beside the enterprise's
tables, the gateway's in its store), so a request captured before a restart is still
refused after it, and several gateway processes sharing one MariaDB refuse a request any
one of them has taken. `MemoryNonces` is the same for one process (tests, tools).
Both are pruned by the window, so they hold at most the requests of one window.
"""
from __future__ import annotations

import threading

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from sync.models import SeenNonce

N = SeenNonce.__table__


class MemoryNonces:
    """Nonces of one process (lost on restart)."""

    def __init__(self):
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def remember(self, nonce: str, stamp: int, now: float, window: float) -> bool:
        """Keep ``nonce``; False when it was already kept (a replay)."""
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {n: t for n, t in self._seen.items() if now - t <= window}
            if nonce in self._seen:
                return False
            self._seen[nonce] = stamp
            return True


class StoredNonces:
    """Nonces in the ``sync_nonces`` table of ``engine``, under ``scope``. Blocking: run
    `remember` on a database thread."""

    def __init__(self, engine: Engine, scope: str, prune_every: float | None = None):
        self.engine = engine
        self.scope = scope
        self.prune_every = prune_every  # seconds between prunes (default: a tenth of the window)
        self._pruned_at: float | None = None

    def remember(self, nonce: str, stamp: int, now: float, window: float) -> bool:
        """Keep ``nonce``; False when it was already kept (a replay). The insert is the
        test: a unique key settles two copies of one request racing on two threads or
        processes, where a look-up first would let both in."""
        every = self.prune_every if self.prune_every is not None else window / 10
        try:
            with self.engine.begin() as conn:
                if self._pruned_at is None or now - self._pruned_at >= every:
                    conn.execute(delete(N).where(N.c.scope == self.scope,
                                                 N.c.stamp < int(now - window)))
                    self._pruned_at = now
                conn.execute(insert(N).values(scope=self.scope, nonce=nonce, stamp=stamp))
        except IntegrityError:
            return False
        return True

    def count(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(N).where(N.c.scope == self.scope))
