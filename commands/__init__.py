"""The SMS command language: route an MO to its enterprise and user, run the command,
and say what to answer.

``handle`` reads and writes through the session it is given and never commits: the
gateway's dispatcher commits the business change, the reply and the MO's state together
(the transactional outbox). Refusals change nothing. An MO that carries a secret (a
SERVICE request's password) comes back with ``Outcome.kept_text``, the text to keep.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session

from commands import approve, done, imei, notices, order, pending, reject, replies, runner
from commands import help as help_command
from commands import service as service_command
from commands import status, sub, task, unsub
from commands import stock as stock_command
from commands.length import clip, clip_word
from commands.registry import Context, Options, Parsed, Registry
from commands.suggest import suggest
from erpcore.tenants import find_by_extension
from erpcore.users import effective_lang, find_by_msisdn

__all__ = ["DEFAULT_OPTIONS", "REGISTRY", "Options", "Outcome", "handle", "kept_text"]

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
    outcome = _answer(session, sms, service_code, registry, options, parsed)
    kept = _without_secrets(registry, parsed)
    return outcome if kept is None else replace(outcome, kept_text=kept)


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
    recipient = (sms.recipient or "").strip()
    if not service_code or not recipient.startswith(service_code):
        return _refuse(replies.both("wrong_number"))
    enterprise = find_by_extension(session, recipient[len(service_code):])
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
    reply = runner.run(command, ctx, parsed.args)
    return Outcome(clip(reply.text), enterprise.id, user.id, command.name, reply.ok)


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
