"""Commands of one kind carried out together (``Command.group``): a dispatcher batch plans
each MO's command as it comes, then writes the plans of all its senders in one set of
statements (``orders.create_across``: every order of the batch in one INSERT) instead of
a dozen statements per command.

What a user sees does not change: a plan is checked as the command alone would check
it, and the MOs to one enterprise still take effect in their order (commands.handle_many
runs them in rounds: an MO after a plan waits for the round's carrying out). If
carrying out a group fails, nothing of it stays (its savepoint) and each of its
commands runs alone, so one bad plan costs only itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from commands import runner
from commands.registry import Command, Context, Group, Reply
from erpcore.db import transaction_lost

log = logging.getLogger(__name__)


#: What a plan returns for a command that must run on its own (an approval that needs a
#: PIN keeps a wrong PIN's count although it refuses): the command's handler runs it.
ALONE = object()


def run_alone(group: Group, ctx: Context, args: list[str], alone=None) -> Reply:
    """The command's handler: its group's three steps for one plan (``alone(ctx, args)``
    when the plan says ALONE)."""
    planned = group.plan(ctx, args)
    if isinstance(planned, Reply):
        return planned
    if planned is ALONE:
        return alone(ctx, args)
    result = group.carry_out(ctx.session, [(ctx, planned)])[0]
    return group.answer(ctx, planned, result)


def plan(command: Command, ctx: Context, args: list[str]) -> object:
    """The command's plan, or the Reply refusing it, as ``runner.run`` would refuse the
    command (service closed, a business error): planning writes nothing."""
    return runner.run(replace(command, handler=command.group.plan, writes=False), ctx, args)


@dataclass
class _Planned:
    index: int
    ctx: Context
    command: Command
    args: list[str]
    plan: object


class Pending:
    """The plans of a batch waiting to be carried out, by command."""

    def __init__(self):
        self._planned: list[_Planned] = []

    def add(self, index: int, ctx: Context, command: Command, args: list[str], planned: object) -> None:
        self._planned.append(_Planned(index, ctx, command, args, planned))

    def carry_out(self, session) -> list[tuple[int, Context, Command, Reply]]:
        """Carry out every waiting plan: (index, context, command, reply) for each."""
        planned, self._planned = self._planned, []
        by_command: dict[str, list[_Planned]] = {}
        for entry in planned:
            by_command.setdefault(entry.command.name, []).append(entry)
        done = []
        for entries in by_command.values():
            done.extend(_carry_out(session, entries))
        return done


def _carry_out(session, entries: list[_Planned]) -> list[tuple[int, Context, Command, Reply]]:
    group = entries[0].command.group
    try:
        with session.begin_nested():
            results = group.carry_out(session, [(e.ctx, e.plan) for e in entries])
            replies = [group.answer(e.ctx, e.plan, result) for e, result in zip(entries, results)]
    except Exception as error:  # a refusal only the writes found, a clash: each alone, as if unbatched
        if transaction_lost(error):
            raise  # a deadlock victim: the transaction is gone, and "alone" would run outside it
        log.info("%d %s commands together failed (%s: %s); each alone instead", len(entries),
                 entries[0].command.name, type(error).__name__, error)
        # The rollback expires only what the unit of work changed, not the objects the
        # group updated in SQL and then set (an order it approved): read them afresh.
        session.expire_all()
        return [(e.index, e.ctx, e.command, runner.run(e.command, e.ctx, e.args)) for e in entries]
    return [(e.index, e.ctx, e.command, reply) for e, reply in zip(entries, replies)]
