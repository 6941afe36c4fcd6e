"""The pending-approvals page, kept between changes (issue 6: 200 managers reloading it).

Managers reload their pending list far more often than it changes. A rendered page is
kept until one of two things happens:

- a change that can alter the lists of its enterprise commits in this process: an
  approval event (erpcore publishes ``ApprovalRequested`` when a document starts waiting
  for someone and ``DocumentDecided`` when it is approved or rejected, inside the
  transaction that makes the change, whether the decision came by SMS, by these pages or
  anything else in this process), or a written user, extra role, service subscription or
  approval rule (someone became a manager, the approval service was closed). The
  enterprise's pages are dropped when that transaction commits;
- ``ttl`` seconds pass: the backstop for what this process cannot see (a decision taken
  by another gateway process on the same MariaDB) or what announces itself in no way
  here (an order cancelled while it waits). A manager sees such a change at most ``ttl``
  seconds late; the document page, where one acts, is always read fresh.

Race-free through generations: a page is stored with its enterprise's generation as read
*before* its data was read, and an invalidation bumps the generation *after* the commit,
so a page built from data read before a commit is never served after that commit.
"""
from __future__ import annotations

import random
import threading
import weakref

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, object_session

from erpcore import events
from erpcore.approvals import ApprovalRule
from erpcore.rbac import UserRole
from erpcore.services import ServiceSubscription
from erpcore.users import User

MAX_ENTRIES = 50_000
_CHANGED = "merp.wap.pending_changed"  # session.info key: enterprises changed in this transaction
_live_caches: weakref.WeakSet[PendingCache] = weakref.WeakSet()


class PendingCache:
    """(enterprise, key) -> value, valid until its enterprise changes or ``ttl`` passes.
    Thread-safe: read on the reactor, filled on the web pool, invalidated by whichever
    thread commits the change."""

    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES):
        self.ttl = ttl
        self._max_entries = max_entries
        self._generations: dict[int, int] = {}
        self._entries: dict[tuple, tuple[float, int, object]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # for the benchmark and the curious; not exact under threads
        _live_caches.add(self)

    def generation(self, enterprise_id: int) -> int:
        """Read this before reading the data a page is built from; hand it to ``put``."""
        return self._generations.get(enterprise_id, 0)

    def get(self, enterprise_id: int, key: tuple, now: float):
        entry = self._entries.get((enterprise_id, key))
        if entry is None or now >= entry[0] or entry[1] != self._generations.get(enterprise_id, 0):
            self.misses += 1
            return None
        self.hits += 1
        return entry[2]

    def put(self, enterprise_id: int, key: tuple, generation: int, value, now: float,
            not_after: float | None = None) -> None:
        """Keep ``value`` while ``generation`` is current and for at most ``ttl``;
        ``not_after``: the page was built from data read earlier (pending_reads) and must
        not outlive that data's own ttl."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generations.get(enterprise_id, 0):
                return  # changed while the page was built: do not keep it
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            # Expiry spread over the last half of ttl: pages filled together (200 managers
            # after a restart or an approval) do not all expire together.
            expires = now + self.ttl * (0.5 + 0.5 * random.random())
            if not_after is not None:
                expires = min(expires, not_after)
            self._entries[(enterprise_id, key)] = (expires, generation, value)

    def invalidate(self, enterprise_ids) -> None:
        with self._lock:
            for enterprise_id in enterprise_ids:
                self._generations[enterprise_id] = self._generations.get(enterprise_id, 0) + 1

    def __len__(self) -> int:
        return len(self._entries)


def _note_change(session: Session, change) -> None:
    """In the publisher's transaction: remember the enterprise until the commit."""
    session.info.setdefault(_CHANGED, set()).add(change.enterprise_id)


def _note_row(_mapper, _connection, row) -> None:
    """A row that decides who sees what was written (ORM flush): note its enterprise."""
    session = object_session(row)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).add(row.enterprise_id)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the change is not visible to others before the real commit
    changed = session.info.pop(_CHANGED, None)
    if changed:
        for cache in list(_live_caches):
            cache.invalidate(changed)


def _after_rollback(session: Session) -> None:
    # The change never happened. A savepoint rolled back keeps the notes (those made
    # before it still count; one too many only costs a page rebuilt).
    if not session.in_nested_transaction():
        session.info.pop(_CHANGED, None)


events.subscribe(events.ApprovalRequested, _note_change)
events.subscribe(events.DocumentDecided, _note_change)
if not sa_event.contains(Session, "after_commit", _after_commit):
    sa_event.listen(Session, "after_commit", _after_commit)
    sa_event.listen(Session, "after_rollback", _after_rollback)
    for _model in (User, UserRole, ServiceSubscription, ApprovalRule):
        for _when in ("after_insert", "after_update", "after_delete"):
            sa_event.listen(_model, _when, _note_row)
