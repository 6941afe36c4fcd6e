"""SERVICE <company> <password> OPEN|CHANGE|CLOSE <module> [key=value ...]: the enterprise
administrator opens, changes or closes a business module from their phone (seed 000 figs.
5-7) through erpcore.services.request_from_phone, bound to the sending number.

A refused request (wrong password, module already open ...) is recorded by erpcore in
``service_requests``: this handler catches the refusal and answers instead of raising, so
the command's savepoint — and that record — is kept while nothing else changes. The
command itself needs no open module: it is how modules get opened.

The password must not outlive the request: ``without_password`` is the text the inbox
keeps once the command is handled (commands.handle puts it in ``Outcome.kept_text``; the
dispatcher stores it in the transaction that logs the command, erpcore.mo_texts).
"""
from __future__ import annotations

from commands.errors import MODULE_NAMES, error_text, for_error, named
from commands.normalize import fold
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import services
from erpcore.errors import ErpError

ACTIONS = {
    "open": "open", "kt": "open", "开通": "open",
    "change": "change", "bg": "change", "变更": "change",
    "close": "close", "gb": "close", "关闭": "close",
}
MODULES = {fold(word): module for module, words in MODULE_NAMES.items() for word in (module, *words)}
MODULES.update({"订单": "orders", "order": "orders", "alert": "alerts", "task": "tasks"})
MASK = "***"

register({
    "service.done": {
        "zh": "{module_name}业务已{action}。", "en": "The {module_name} service is now {action}.",
    },
    "service.action_open": {"zh": "开通", "en": "open"},
    "service.action_change": {"zh": "变更", "en": "changed"},
    "service.action_close": {"zh": "关闭", "en": "closed"},
})


def without_password(word: str, args: list[str]) -> str | None:
    """The request as it may be kept: ``SERVICE DEMO *** CLOSE alerts``. The second word
    is the password; a lone word may be one typed without the code, so it goes too."""
    if not args:
        return None
    shown = [args[0], MASK, *args[2:]] if len(args) > 1 else [MASK]
    return " ".join([word, *shown])


def run(ctx: Context, args: list[str]) -> Reply:
    code, password, action_word, module_word, *extra = args
    action = ACTIONS.get(fold(action_word), action_word)
    module = MODULES.get(fold(module_word), module_word)
    if fold(code) == fold(ctx.enterprise.code):
        code = ctx.enterprise.code  # the company's own code, however it was typed
    params = dict(word.partition("=")[::2] for word in extra) if extra else None
    try:
        services.request_from_phone(
            ctx.session, code, password, action, module, params, msisdn=ctx.user.msisdn,
        )
    except ErpError as error:  # the refusal's record stays
        if error.code == "service.closed":  # to the admin: not "ask your admin to open it"
            return Reply(error_text("service.not_open", ctx.lang, **error.details), ok=False)
        return Reply(for_error(error, ctx.lang), ok=False)
    return Reply(ctx.t("service.done", module_name=named(MODULE_NAMES, module, ctx.lang),
                       action=ctx.t(f"service.action_{action}")))


COMMAND = Command(
    name="SERVICE",
    pinyin="FW",
    chinese="服务",
    handler=run,
    min_args=4,
    writes=True,
    synopsis={"zh": "服务 企业代码 密码 开通|变更|关闭 业务", "en": "SERVICE <company> <password> OPEN|CHANGE|CLOSE <module>"},
    usage={
        "zh": "服务 企业代码 密码 开通|变更|关闭 业务 (或 FW): 管理员开通或关闭业务。例: 服务 DEMO 密码 开通 预警",
        "en": "SERVICE <company> <password> OPEN|CHANGE|CLOSE <module> (or FW): the admin opens or"
              " closes a service. E.g. SERVICE DEMO secret OPEN alerts",
    },
)
