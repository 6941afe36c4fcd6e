"""Runs one command for a known user: checks its service is open, gives a writing command
its own savepoint, and turns any business error into a reply that says what to send.

Why a savepoint: a command may change several things (create an order, then submit it);
if a later step refuses, the earlier ones must vanish too, while the dispatcher still
commits the refusal's reply. A handler that wants something kept despite refusing (a
wrong PIN's failure count, a refused service request's record) returns a refusing Reply
instead of raising.

In a dispatcher batch (``without_savepoints``) a writing command runs without one, as
nearly every refusal comes before the first write: a refusal that wrote nothing (no
INSERT/UPDATE/DELETE on the connection, erpcore.written, and nothing pending in the
session) drops the audit entries and notifications it queued (erpcore.deferred) and is
answered as usual; one that wrote raises ``WroteBeforeRefusing``, and the dispatcher does
the batch again one MO at a time, each in a savepoint, where this command then refuses
inside its own savepoint as above.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from commands import errors
from commands.length import clip_word
from commands.registry import Command, Context, Reply
from erpcore import deferred, written
from erpcore.errors import ErpError
from erpcore.items import AmbiguousItem, ItemNotFound
from erpcore.orders import require_open
from erpcore.sites import SiteNotFound
from erpcore.written import WroteBeforeRefusing

_WITHOUT_SAVEPOINTS = "commands.runner.without_savepoints"
#: What ``run`` answers as a refusal (its except clauses below).
_REFUSALS = (ErpError, ItemNotFound, AmbiguousItem, SiteNotFound)


@contextmanager
def without_savepoints(session: Session) -> Iterator[None]:
    """Run writing commands without a savepoint each while the block runs (the
    dispatcher's batch, itself inside one savepoint it can roll back)."""
    session.info[_WITHOUT_SAVEPOINTS] = session.info.get(_WITHOUT_SAVEPOINTS, 0) + 1
    try:
        yield
    finally:
        session.info[_WITHOUT_SAVEPOINTS] -= 1


def run(command: Command, ctx: Context, args: list[str]) -> Reply:
    """The command's reply; never raises for a business refusal."""
    try:
        if command.module is not None:
            require_open(ctx.session, ctx.enterprise.id, command.module)
        if not command.writes:
            return command.handler(ctx, args)
        if ctx.session.info.get(_WITHOUT_SAVEPOINTS):
            return _run_without_savepoint(command, ctx, args)
        with ctx.session.begin_nested():
            return command.handler(ctx, args)
    except ErpError as error:
        return Reply(errors.for_error(error, ctx.lang), ok=False)
    except ItemNotFound as error:
        return Reply(errors.error_text("item.not_found", ctx.lang, query=clip_word(error.query)), ok=False)
    except AmbiguousItem as error:
        text = errors.error_text("item.ambiguous", ctx.lang, query=clip_word(error.query),
                                 skus=", ".join(error.skus[:6]))
        return Reply(text, ok=False)
    except SiteNotFound as error:
        return Reply(errors.error_text("site.not_found", ctx.lang, query=clip_word(error.query)), ok=False)


def _run_without_savepoint(command: Command, ctx: Context, args: list[str]) -> Reply:
    session = ctx.session
    writes, queued = written.count(session), deferred.mark(session)
    try:
        return command.handler(ctx, args)
    except _REFUSALS as refusal:
        if written.count(session) != writes or session.new or session.dirty or session.deleted:
            raise WroteBeforeRefusing(f"{command.name} refused after writing: {refusal}") from refusal
        deferred.drop_since(session, queued)
        raise
