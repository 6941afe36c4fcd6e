"""The SMS command language: route an MO to its enterprise and user, run the command,
and say what to answer.

``handle`` reads and writes through the session it is given and never commits: the
gateway's dispatcher commits the business change, the reply and the MO's state together
(the transactional outbox). Refusals change nothing. An MO that carries a secret (a
SERVICE request's password) comes back with ``Outcome.kept_text``, the text to keep.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session

from commands import approve, done, groups, imei, notices, order, pending, reject, replies, runner
from commands import help as help_command
from commands import service as service_command
from commands import status, sub, task, unsub
from commands import stock as stock_command
from commands.length import clip, clip_word
from commands.registry import Command, Context, Options, Parsed, Registry, Reply
from commands.suggest import suggest
from erpcore.tenants import Enterprise, find_by_extension
from erpcore.users import effective_lang, find_by_msisdn

__all__ = ["DEFAULT_OPTIONS", "REGISTRY", "Options", "Outcome", "handle", "handle_many", "kept_text"]

# One entry per command module; HELP lists exactly these, in this order.
REGISTRY = Registry([
    help_command.COMMAND, stock_command.COMMAND, order.COMMAND, pending.COMMAND, approve.COMMAND,
    reject.COMMAND, status.COMMAND, sub.COMMAND, unsub.COMMAND, imei.COMMAND, task.COMMAND,
    done.COMMAND, service_command.COMMAND,
])
DEFAULT_OPTIONS = Options()
# Commands whose text carries a secret: how the text reads with it masked (command.name ->
# f(word typed, arguments) -> text, or None when there is nothing to mask).
SECRET_MASKS: dict[str, Callable[[str, list[str]], str | None]] = {
    service_command.COMMAND.name: service_command.without_password,
}
notices.install()  # approvers and requesters are told by SMS (erpcore events -> notifications)


class IncomingText(Protocol):
    sender: str
    recipient: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """The reply to send (may need up to three SMS) and what it was about."""

    reply: str
    enterprise_id: int | None
    user_id: int | None
    command: str | None
    ok: bool
    # The MO's text as the inbox may keep it once handled (a password masked); None:
    # keep the text as it came.
    kept_text: str | None = None


def handle(
    session: Session, sms: IncomingText, service_code: str, registry: Registry = REGISTRY,
    options: Options = DEFAULT_OPTIONS,
) -> Outcome:
    """Answer one (reassembled) MO sent to ``service_code`` + an enterprise extension."""
    parsed = registry.parse(sms.text or "")
    return _kept(registry, parsed, _answer(session, sms, service_code, registry, options, parsed))


def kept_text(text: str, registry: Registry = REGISTRY) -> str | None:
    """What the inbox may keep of a handled MO's ``text``: None for the text itself, else
    the text with its secret masked (a SERVICE request's password) — also when the
    command was refused, mistyped or failed, since the raw text is not needed any more."""
    return _without_secrets(registry, registry.parse(text or ""))


def _without_secrets(registry: Registry, parsed: Parsed) -> str | None:
    command = parsed.command
    if command is None and parsed.word:  # "SERVCE DEMO pw ..." is masked like SERVICE
        command = registry.lookup(suggest(registry, parsed.word) or "")
    mask = SECRET_MASKS.get(command.name) if command is not None else None
    return mask(parsed.word, parsed.args) if mask is not None else None


def _answer(
    session: Session, sms: IncomingText, service_code: str, registry: Registry, options: Options,
    parsed: Parsed,
) -> Outcome:
    routed = _route(session, sms, service_code, registry, options, parsed)
    if isinstance(routed, Outcome):
        return routed
    ctx, command, args = routed
    return _outcome(ctx, command, runner.run(command, ctx, args))


def _route(
    session: Session, sms: IncomingText, service_code: str, registry: Registry, options: Options,
    parsed: Parsed,
) -> Outcome | tuple[Context, Command, list[str]]:
    """Who sends the command, in which enterprise: (context, command, arguments) to run,
    or the Outcome refusing it (not ours, unknown sender, unknown command, usage)."""
    enterprise = _enterprise_sent_to(session, sms, service_code)
    if enterprise is None:
        return _refuse(replies.both("wrong_number"))
    if not enterprise.active:
        return _refuse(replies.text("enterprise_closed", enterprise.lang), enterprise.id)
    user = find_by_msisdn(session, enterprise.id, sms.sender or "")
    if user is None or not user.active:
        return _refuse(replies.both("unknown_sender"), enterprise.id)
    lang = effective_lang(user, enterprise)
    command = parsed.command
    if command is None:
        return _refuse(_unknown_command(registry, parsed.word, lang), enterprise.id, user.id)
    if not command.accepts(parsed.args):
        usage = replies.text("usage", lang, usage=command.usage[lang])
        return _refuse(usage, enterprise.id, user.id, command.name)
    ctx = Context(session=session, enterprise=enterprise, user=user, lang=lang, registry=registry,
                  options=options)
    return ctx, command, parsed.args


def _enterprise_sent_to(session: Session, sms: IncomingText, service_code: str) -> Enterprise | None:
    """The enterprise whose number (service code + extension) the MO was sent to, or None."""
    recipient = (sms.recipient or "").strip()
    if not service_code or not recipient.startswith(service_code):
        return None
    return find_by_extension(session, recipient[len(service_code):])


def _outcome(ctx: Context, command: Command, reply: Reply) -> Outcome:
    return Outcome(clip(reply.text), ctx.enterprise.id, ctx.user.id, command.name, reply.ok)


def handle_many(
    session: Session, messages: Sequence[tuple[IncomingText, str]], registry: Registry = REGISTRY,
    options: Options = DEFAULT_OPTIONS,
) -> list[Outcome]:
    """``handle`` for a dispatcher batch's MOs, answered as one at a time in the order given
    would answer them. Commands with a ``group`` (ORDER) are planned as they come and
    carried out together, in rounds: the MOs to one number (one enterprise) run in their
    order — one that follows a plan waits for the round's carrying out, unless it is the
    same command touching nothing a waiting plan touches — while MOs to other numbers go
    on (commands.groups). Raises what ``handle`` would raise (the
    dispatcher then runs its MOs one at a time)."""
    outcomes: list[Outcome | None] = [None] * len(messages)
    parsed_texts = [registry.parse(sms.text or "") for sms, _code in messages]
    routed: dict[int, Outcome | tuple[Context, Command, list[str]]] = {}
    queues: dict[str, deque[int]] = {}
    for index, (sms, _code) in enumerate(messages):
        queues.setdefault((sms.recipient or "").strip(), deque()).append(index)
    _hold_ahead(session, messages, parsed_texts)
    pending = groups.Pending()
    while queues:
        for queue in queues.values():
            planned = None  # the group this number's MOs joined in this round
            touched: set = set()  # what its plans there touch
            while queue:
                index = queue[0]
                if index not in routed:  # at its turn: a command before it may have changed who is who
                    sms, service_code = messages[index]
                    routed[index] = _route(session, sms, service_code, registry, options, parsed_texts[index])
                route = routed[index]
                if isinstance(route, Outcome):
                    outcome = route
                else:
                    ctx, command, args = route
                    if planned is not None and command.name != planned:
                        break  # waits for the plans before it
                    touches = command.group.touches(ctx, args) if command.group and command.group.touches else None
                    if touches is not None and touches in touched:
                        break  # reads what a waiting plan changes
                    plan = None if command.group is None else groups.plan(command, ctx, args)
                    if plan is groups.ALONE and planned is not None:
                        break  # runs alone, after the plans before it
                    if plan is None or plan is groups.ALONE:
                        outcome = _outcome(ctx, command, runner.run(command, ctx, args))
                    elif isinstance(plan, Reply):
                        outcome = _outcome(ctx, command, plan)
                    else:
                        pending.add(index, ctx, command, args, plan)
                        planned = command.name
                        if touches is not None:
                            touched.add(touches)
                        queue.popleft()
                        continue
                outcomes[index] = _kept(registry, parsed_texts[index], outcome)
                queue.popleft()
        for index, ctx, command, reply in pending.carry_out(session):
            outcomes[index] = _kept(registry, parsed_texts[index], _outcome(ctx, command, reply))
        queues = {number: queue for number, queue in queues.items() if queue}
    return outcomes


def _hold_ahead(session: Session, messages: Sequence[tuple[IncomingText, str]], parsed_texts: list[Parsed]) -> None:
    """Before the first round: what each group's carrying out will lock for the batch's
    enterprises (``Group.hold``), by the number each command was sent to. A command that
    turns out not to be carried out (refused, or routed elsewhere) only held a row."""
    wanted: dict[str, tuple[Callable, set[int]]] = {}
    for (sms, service_code), parsed in zip(messages, parsed_texts, strict=True):
        command = parsed.command
        if command is None or command.group is None or command.group.hold is None:
            continue
        enterprise = _enterprise_sent_to(session, sms, service_code)
        if enterprise is not None:
            wanted.setdefault(command.name, (command.group.hold, set()))[1].add(enterprise.id)
    for name in sorted(wanted):
        hold, enterprise_ids = wanted[name]
        hold(session, sorted(enterprise_ids))


def _kept(registry: Registry, parsed: Parsed, outcome: Outcome) -> Outcome:
    kept = _without_secrets(registry, parsed)
    return outcome if kept is None else replace(outcome, kept_text=kept)


def _unknown_command(registry: Registry, word: str, lang: str) -> str:
    if not word:
        return replies.text("empty", lang)
    suggestion = suggest(registry, word)
    if suggestion is None:
        return replies.text("unknown_command", lang, word=clip_word(word))
    return replies.text("unknown_command_suggest", lang, word=clip_word(word), suggestion=suggestion)


def _refuse(
    reply: str, enterprise_id: int | None = None, user_id: int | None = None, command: str | None = None
) -> Outcome:
    return Outcome(clip(reply), enterprise_id, user_id, command, False)
