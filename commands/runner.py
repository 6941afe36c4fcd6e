"""Runs one command for a known user: checks its service is open, gives a writing command
its own savepoint, and turns any business error into a reply that says what to send.

Why a savepoint: a command may change several things (create an order, then submit it);
if a later step refuses, the earlier ones must vanish too, while the dispatcher still
commits the refusal's reply. A handler that wants something kept despite refusing (a
wrong PIN's failure count, a refused service request's record) returns a refusing Reply
instead of raising.
"""
from __future__ import annotations

from commands import errors
from commands.length import clip_word
from commands.registry import Command, Context, Reply
from erpcore.errors import ErpError
from erpcore.items import AmbiguousItem, ItemNotFound
from erpcore.orders import require_open
from erpcore.sites import SiteNotFound


def run(command: Command, ctx: Context, args: list[str]) -> Reply:
    """The command's reply; never raises for a business refusal."""
    try:
        if command.module is not None:
            require_open(ctx.session, ctx.enterprise.id, command.module)
        if not command.writes:
            return command.handler(ctx, args)
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
