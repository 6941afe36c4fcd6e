"""How many data-changing statements (INSERT, UPDATE, DELETE) a connection has sent.

A caller that runs some work without a savepoint of its own compares the count before
and after to learn whether the work wrote anything (commands.runner, in the
dispatcher's batch: a command that refuses after a write cannot be answered without
rolling it back). Counted by an engine event for every statement the connection sends,
ORM flushes and Core statements alike, so no write goes unseen.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_COUNT = "erpcore.written"


class WroteBeforeRefusing(RuntimeError):
    """Work without a savepoint of its own refused after it had written: only rolling back
    an enclosing savepoint can undo the half it did (not a business refusal, so nothing
    answers it as one)."""
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def count(session: Session) -> int:
    """The writes sent so far on the session's connection (a running total: compare)."""
    return session.connection().info.get(_COUNT, 0)


@event.listens_for(Engine, "after_cursor_execute")
def _count_writes(conn, _cursor, statement, _parameters, context, _executemany) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        pass
    elif not statement.lstrip()[:7].upper().startswith(_WRITES):
        return
    conn.info[_COUNT] = conn.info.get(_COUNT, 0) + 1
