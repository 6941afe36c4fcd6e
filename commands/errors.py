"""Every business error a command can meet, as a reply in the user's language.

One place maps ``erpcore.errors`` codes (and the few non-ErpError lookups: items, sites)
to texts that say what went wrong and what to send instead. Unknown codes fall back to
their error class (not found / not allowed / invalid / conflict), never to a traceback.
"""
from __future__ import annotations

from erpcore.errors import Conflict, ErpError, InvalidInput, NotFound, PermissionDenied

MODULE_NAMES = {
    "stock": ("库存", "stock"), "orders": ("订货", "orders"), "approval": ("审批", "approval"),
    "alerts": ("预警", "alerts"), "tasks": ("任务", "tasks"), "sync": ("同步", "sync"),
    "sharing": ("共享", "sharing"),
}

# code -> (zh, en); {placeholders} come from the error's details (missing ones read "?").
TEXTS: dict[str, tuple[str, str]] = {
    "service.closed": (
        "贵企业未开通{module_name}业务,请联系管理员开通。",
        "Your company's {module_name} service is closed; ask your admin to open it.",
    ),
    "rbac.denied": (
        "您无权执行此操作。发 帮助 查看您可用的指令。",
        "You are not allowed to do this. Send HELP for your commands.",
    ),
    "order.not_found": (
        "没有单据 {number}。发 待办 查看待审单据。",
        "No such document {number}. Send PENDING for yours.",
    ),
    "order.illegal_transition": (
        "单据 {number} 当前{state_name},不能再处理。发 查询 {number} 查看。",
        "Document {number} is {state}; nothing to do. Send STATUS {number}.",
    ),
    "order.not_requester": (
        "只有下单人可以提交单据 {number}。发 查询 {number} 查看。",
        "Only the requester may submit document {number}. Send STATUS {number}.",
    ),
    "order.bad_quantity": (
        "数量须为1至1000000的整数,如 订货 X100 5",
        "Quantity must be a whole number 1-1000000, e.g. ORDER X100 5",
    ),
    "order.too_large": (
        "金额过大,请分几次订货,如 订货 X100 5", "Order too large; send smaller ORDERs, e.g. ORDER X100 5",
    ),
    "order.site_required": (
        "请注明收货网点,如 订货 X100 5 一厅",
        "Name the receiving site, e.g. ORDER X100 5 HALL1",
    ),
    "approval.self": (
        "不能审批自己的单据或同一单据两次({number})。发 待办 查看待审单据。",
        "You cannot approve your own document or one twice ({number}). Send PENDING for yours.",
    ),
    "approval.not_approver": (
        "单据 {number} 待{role}审批,您无权审批。发 待办 查看待审单据。",
        "Document {number} awaits a {role}; you may not decide it. Send PENDING for yours.",
    ),
    "approval.reason_required": (
        "驳回需写明原因,如 驳回 {number} 价格太高",
        "A rejection needs a reason, e.g. REJECT {number} price too high",
    ),
    "alert.invalid": (
        "阈值须为1至1000000的整数,如 订阅 X100 5",
        "Threshold must be a whole number 1-1000000, e.g. SUB X100 5",
    ),
    "item.not_found": (
        "没有货品 {query}。请发编码、型号或TAC,如 库存 X100",
        "No item {query}. Send its SKU, model or TAC, e.g. STOCK X100",
    ),
    "item.ambiguous": (
        "{query} 对应多个货品: {skus}。请发编码。",
        "{query} matches several items: {skus}. Send the SKU.",
    ),
    "site.not_found": (
        "没有网点 {query}。发 库存 货品 查本网点。",
        "No site {query}. Send STOCK <item> for your own site.",
    ),
    "share.not_shared": (
        "对方未向贵企业共享库存。发 库存 货品 查本企业的。",
        "That company does not share its stock with yours. Send STOCK <item> for your own.",
    ),
    "task.not_found": ("没有任务 {task_id}。发 任务 查看您的任务。", "No task {task_id}. Send TASK for yours."),
    "task.not_assignee": (
        "任务 {task_id} 不是派给您的。发 任务 查看您的任务。",
        "Task {task_id} is not yours. Send TASK for yours.",
    ),
    "task.not_open": (
        "任务 {task_id} 已完成。发 任务 查看未完成的任务。", "Task {task_id} is already closed. Send TASK for open ones.",
    ),
    "imei.not_found": (
        "没有串号 {query} 的手机。请发15位串号,如 串号 861234560000001",
        "No handset with IMEI {query}. Send the 15 digits, e.g. IMEI 861234560000001",
    ),
    "imei.invalid": (
        "串号 {query} 无效,请发15位数字,如 串号 861234560000001",
        "IMEI {query} is not valid: send its 15 digits, e.g. IMEI 861234560000001",
    ),
    "auth.failed": ("企业代码或密码错误,请核对后重发。", "Wrong company code or password. Check them and send again."),
    "auth.locked": ("密码错误次数过多,请15分钟后再试。", "Too many wrong passwords; try again in 15 minutes."),
    "service.already_open": (
        "{module_name}业务已开通。要变更请发 服务 企业代码 密码 变更 {module_name}",
        "The {module_name} service is already open. To change it send SERVICE <company> <password>"
        " CHANGE {module_name}",
    ),
    "service.not_open": (
        "{module_name}业务未开通。要开通请发 服务 企业代码 密码 开通 {module_name}",
        "The {module_name} service is not open. To open it send SERVICE <company> <password>"
        " OPEN {module_name}",
    ),
    "service.unknown_module": (
        "没有业务 {module},请发其中之一: 库存 订货 审批 预警 任务 同步 共享",
        "No service {module}; send one of: stock orders approval alerts tasks sync sharing",
    ),
    "service.bad_action": (
        "操作须为 开通、变更 或 关闭,如 服务 企业代码 密码 开通 预警",
        "The action is OPEN, CHANGE or CLOSE, e.g. SERVICE <company> <password> OPEN alerts",
    ),
    "service.bad_params": ("参数有误,请写 键=值,如 limit=5", "Bad parameters; write key=value, e.g. limit=5"),
}

FALLBACK: tuple[tuple[type, str, str], ...] = (
    (NotFound, "没有找到。发 帮助 查看指令。", "Not found. Send HELP for the commands."),
    (PermissionDenied, "您无权执行此操作。发 帮助 查看指令。", "Not allowed. Send HELP for the commands."),
    (InvalidInput, "输入有误。发 帮助 查看用法。", "Invalid input. Send HELP for the usage."),
    (Conflict, "无法执行:状态已变化。请稍后查询。", "Cannot do that now; the state changed. Check again."),
)
GENERIC = ("无法执行。发 帮助 查看指令。", "Cannot do that. Send HELP for the commands.")

STATE_NAMES = {
    "draft": ("草稿", "draft"), "pending_approval": ("待审批", "awaiting approval"),
    "approved": ("已批准", "approved"), "rejected": ("已驳回", "rejected"),
    "fulfilled": ("已完成", "fulfilled"), "cancelled": ("已取消", "cancelled"),
}
ROLE_NAMES = {
    "manager": ("经理", "manager"), "finance": ("财务", "finance"), "admin": ("管理员", "admin"),
}


def named(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    """``key`` as a reader of ``lang`` calls it (the key itself when unnamed)."""
    pair = table.get(key or "")
    if pair is None:
        return key or "?"
    return pair[1] if lang == "en" else pair[0]


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def error_text(code: str, lang: str, cls: type | None = None, **details: object) -> str:
    """The reply for an error ``code`` (with ``details`` filled in) in ``lang``."""
    values = _Values({k: v for k, v in details.items() if v is not None})
    values.setdefault("module_name", named(MODULE_NAMES, str(details.get("module") or ""), lang))
    values.setdefault("state_name", named(STATE_NAMES, str(details.get("state") or ""), lang))
    if "role" in values:
        values["role"] = named(ROLE_NAMES, str(values["role"]), lang)
    pair = TEXTS.get(code)
    if pair is None:
        pair = next(((zh, en) for base, zh, en in FALLBACK if cls is not None and issubclass(cls, base)), GENERIC)
    return (pair[1] if lang == "en" else pair[0]).format_map(values)


def for_error(error: ErpError, lang: str) -> str:
    """The reply for a raised ErpError."""
    return error_text(error.code, lang, type(error), **error.details)
