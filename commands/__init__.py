"""The SMS command language: route an MO to its enterprise and user, run the command,
and say what to answer.

``handle`` reads and (for future commands) writes through the session it is given and
never commits: the gateway's dispatcher commits the business change, the reply and the
MO's state together (the transactional outbox). Refusals change nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from commands import approve, done, imei, notices, order, pending, reject, replies, runner
from commands import help as help_command
from commands import service as service_command
from commands import status, sub, task, unsub
from commands import stock as stock_command
from commands.length import clip, clip_word
from commands.registry import Context, Options, Registry
from erpcore.tenants import find_by_extension
from erpcore.users import effective_lang, find_by_msisdn

__all__ = ["DEFAULT_OPTIONS", "REGISTRY", "Options", "Outcome", "handle"]

# One entry per command module; HELP lists exactly these, in this order.
REGISTRY = Registry([
    help_command.COMMAND, stock_command.COMMAND, order.COMMAND, pending.COMMAND, approve.COMMAND,
    reject.COMMAND, status.COMMAND, sub.COMMAND, unsub.COMMAND, imei.COMMAND, task.COMMAND,
    done.COMMAND, service_command.COMMAND,
])
DEFAULT_OPTIONS = Options()
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


def handle(
    session: Session, sms: IncomingText, service_code: str, registry: Registry = REGISTRY,
    options: Options = DEFAULT_OPTIONS,
) -> Outcome:
    """Answer one (reassembled) MO sent to ``service_code`` + an enterprise extension."""
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
    parsed = registry.parse(sms.text or "")
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
    suggestion = registry.suggest(word)
    if suggestion is None:
        return replies.text("unknown_command", lang, word=clip_word(word))
    return replies.text("unknown_command_suggest", lang, word=clip_word(word), suggestion=suggestion)


def _refuse(
    reply: str, enterprise_id: int | None = None, user_id: int | None = None, command: str | None = None
) -> Outcome:
    return Outcome(clip(reply), enterprise_id, user_id, command, False)
