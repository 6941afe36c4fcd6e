"""Rows read ahead for a dispatcher batch, kept for the rest of its transaction.

Why: a batch of 200 MOs runs in one transaction and its commands read the same kinds of
rows one by one; `commands.prefetch` reads them for the whole batch at once and leaves
them in these memos, where erpcore's lookups look first.

The rules every memo here keeps:

- It holds rows only as read from the database, never as a write in the transaction
  left them: a savepoint may roll that write back. A write that changes what a memo says
  drops the entries (``forget``), it never patches them.
- A lookup that misses runs its normal query; what the memo lacks only costs a query.
- Mapped rows changed through the session (``session.add``, attribute changes) drop the
  memos registered for their class with `forget_on_flush` before they are flushed.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import Session

from erpcore.tenants import transaction_memo

__all__ = ["forget", "forget_on_flush", "held", "keep_unambiguous", "loose", "memo", "settled"]

_WATCHED: dict[type, set[str]] = {}


def memo(session: Session, key: str) -> dict:
    """The memo ``key`` of the session's current transaction (created empty; the
    transaction is begun if it was not: the rows about to be kept are read in it)."""
    if session.get_transaction() is None:
        session.connection()
    return transaction_memo(session, key)


def held(session: Session, key: str) -> dict | None:
    """The memo ``key`` if this transaction has one, else None (a lookup outside a
    prepared batch creates nothing)."""
    kept = session.info.get(key)
    if kept is None or kept[0] is not session.get_transaction():
        return None
    return kept[1]


def settled(session: Session, key: str) -> dict | None:
    """`held`, for a lookup that answers instead of a query: the session's pending
    changes are flushed first, as the query's autoflush would (a flush of a watched row
    drops the memo, so a lookup never answers past a change made in memory)."""
    kept = held(session, key)
    if kept and session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
        kept = held(session, key)
    return kept


def forget(session: Session, key: str, entries=None) -> None:
    """Drop ``entries`` (keys) of memo ``key``, or all of it when None."""
    kept = held(session, key)
    if not kept:
        return
    if entries is None:
        kept.clear()
        return
    for entry in entries:
        kept.pop(entry, None)


def forget_on_flush(model: type, key: str) -> None:
    """Drop memo ``key`` whenever a flush writes a ``model`` row (new, changed, deleted)."""
    _WATCHED.setdefault(model, set()).add(key)


@event.listens_for(Session, "before_flush")
def _forget_flushed(session: Session, _context, _instances) -> None:
    if not _WATCHED:
        return
    keys = set()
    for instance in chain(session.new, session.dirty, session.deleted):
        keys.update(_WATCHED.get(type(instance), ()))
    for key in keys:
        forget(session, key)


def loose(text: str) -> str:
    """Coarser than any collation a code comparison may use: case, accents and trailing
    blanks ignored (MariaDB's utf8mb4_general_ci pads and folds accents)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().rstrip()


def keep_unambiguous(session: Session, key: str, wanted: Iterable[tuple[int, str]], rows: Iterable,
                     code_of: Callable[[object], str]) -> dict:
    """Keep in memo ``key``, for each (enterprise id, upper-case code) wanted, the one row of
    ``rows`` with that code — only when no other row of the enterprise could match it
    under a looser collation (those are left to the normal lookup)."""
    by_loose: dict[tuple[int, str], list] = {}
    for row in rows:  # each row's loose code once, not once per code wanted
        by_loose.setdefault((row.enterprise_id, loose(code_of(row))), []).append(row)
    kept = memo(session, key)
    for enterprise_id, code in wanted:
        close = by_loose.get((enterprise_id, loose(code)), ())
        if len(close) == 1 and code_of(close[0]).upper() == code:
            kept[enterprise_id, code] = close[0]
    return kept
