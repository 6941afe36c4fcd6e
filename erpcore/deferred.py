"""Rows a transaction writes late, a statement per table: audit entries and notifications.

Nothing on the command path reads them back before the commit, yet written as they come
they cost a dispatcher batch a round trip (or three) per command. While a session is
``deferring`` (the dispatcher turns it on for its batch), ``audit.Trail.write`` and
``notifications.notify`` queue their rows here, and ``flush`` writes each table's rows in
one statement. Who flushes: the dispatcher at the batch's end (before its outbox rows);
erpcore's own readers of the two tables (``audit.history``, ``notifications.pending`` ...)
before they read; and, in any case, a ``before_commit`` hook on every Session before the
outermost commit. The mode is opt-in rather than on for every session because a queued row
has no id yet and is not seen by a raw read in the same transaction: where one statement
per row costs nothing (a web page, a CLI command) the rows are written as they come.

Savepoint-aware: a row queued inside a savepoint that rolls back is dropped with it (an
``after_soft_rollback`` hook), just as a written row would have been; a row queued in a
savepoint that is released stays, and goes if an enclosing one rolls back.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_QUEUE = "erpcore.deferred"


@dataclass(frozen=True, eq=False)
class Sink:
    """One table's deferred rows: ``write(session, rows)`` stores them in one statement."""

    name: str
    write: Callable[[Session, list[dict]], None]


class _Queue:
    def __init__(self) -> None:
        self.depth = 0  # nested `deferring` blocks
        self.entries: list[tuple[Sink, dict, SessionTransaction, Hashable]] = []
        self.unique: set[tuple[Sink, Hashable]] = set()


def _queue(session: Session) -> _Queue:
    queue = session.info.get(_QUEUE)
    if queue is None:
        queue = session.info[_QUEUE] = _Queue()
    return queue


@contextmanager
def deferring(session: Session) -> Iterator[None]:
    """Queue the session's audit entries and notifications while the block runs. Rows
    still queued when it ends stay queued: a flush or the commit writes them, a rollback
    drops them."""
    queue = _queue(session)
    queue.depth += 1
    try:
        yield
    finally:
        queue.depth -= 1


def is_deferring(session: Session) -> bool:
    queue = session.info.get(_QUEUE)
    return queue is not None and queue.depth > 0


def add(session: Session, sink: Sink, row: dict, unique: Hashable = None) -> bool:
    """Queue ``row`` for ``sink``; False (nothing queued) when a row with the same
    ``unique`` value (not None) is queued already."""
    queue = _queue(session)
    if unique is not None:
        if (sink, unique) in queue.unique:
            return False
        queue.unique.add((sink, unique))
    queue.entries.append((sink, row, _innermost(session), unique))
    return True


def pending(session: Session) -> int:
    """How many rows are queued (for tests and a caller that wants to know)."""
    queue = session.info.get(_QUEUE)
    return 0 if queue is None else len(queue.entries)


def flush(session: Session) -> None:
    """Write every queued row, one statement per table (in the order tables were first
    queued, rows in the order they came)."""
    queue = session.info.get(_QUEUE)
    if queue is None or not queue.entries:
        return
    entries, queue.entries, queue.unique = queue.entries, [], set()
    by_sink: dict[Sink, list[dict]] = {}
    for sink, row, _transaction, _unique in entries:
        by_sink.setdefault(sink, []).append(row)
    for sink, rows in by_sink.items():
        sink.write(session, rows)


def mark(session: Session) -> int:
    """Where the queue stands now, for `drop_since`."""
    return pending(session)


def drop_since(session: Session, position: int) -> None:
    """Forget the rows queued after `mark` returned ``position`` (a command that refused
    without a savepoint of its own)."""
    queue = session.info.get(_QUEUE)
    if queue is not None and len(queue.entries) > position:
        del queue.entries[position:]
        queue.unique = {(sink, unique) for sink, _row, _t, unique in queue.entries if unique is not None}


def _innermost(session: Session) -> SessionTransaction:
    if session.get_transaction() is None:
        session.connection()  # begin the transaction the row belongs to (and dies with)
    return session.get_nested_transaction() or session.get_transaction()


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    # Fired for a savepoint's release too, which writes only once the mode has ended: a
    # batch keeps its rows for its own flush. (The event does not tell a release from an
    # outermost commit made with savepoints still open; that commit, inside a deferring
    # block, would lose the rows: `_lost` says so.)
    if not session.in_nested_transaction() or not is_deferring(session):
        flush(session)


@event.listens_for(Session, "after_commit")
def _lost(session: Session) -> None:
    # Fired for a savepoint's release too (the savepoint is still the session's then).
    if not session.in_nested_transaction() and pending(session):
        log.error("%d deferred rows not written: the transaction was committed with savepoints "
                  "open inside erpcore.deferred.deferring", pending(session))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    queue = session.info.get(_QUEUE)
    if queue is None or not queue.entries:
        return
    if previous_transaction.parent is None:
        queue.entries, queue.unique = [], set()
        return
    kept = [entry for entry in queue.entries if not _within(entry[2], previous_transaction)]
    if len(kept) != len(queue.entries):
        queue.entries = kept
        queue.unique = {(sink, unique) for sink, _row, _t, unique in kept if unique is not None}


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    # A transaction closed without a commit or a rollback (Session.close) takes its rows.
    if transaction.parent is None:
        queue = session.info.get(_QUEUE)
        if queue is not None and queue.entries:
            queue.entries, queue.unique = [], set()
