"""STATUS <doc>: a document's state and its history, compact (``03-05 14:20 张伟 提交``).

Who may look: the requester, whoever may see all orders, and approvers; to anybody else
(and for another tenant's number) the document does not exist.
"""
from __future__ import annotations

from commands.approve import document
from commands.errors import ROLE_NAMES, STATE_NAMES, named
from commands.formatting import lines_summary, money, user_name, utc_offset_hours, when
from commands.length import clip_word, join_fitting
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import audit, orders, rbac

ACTIONS = {
    "order.create": ("创建", "created"), "order.submit": ("提交", "submitted"),
    "order.auto_approve": ("自动批准", "auto-approved"), "approval.approve": ("同意", "approved"),
    "order.approve": ("批准", "approved"), "order.reject": ("驳回", "rejected"),
    "order.cancel": ("取消", "cancelled"), "order.fulfil": ("入库", "received"),
}

register({
    "status.head": {"zh": "订单{number} {lines} {total}元 {state}。", "en": "Order {number} {lines} {total}: {state}. "},
    "status.awaiting": {"zh": "{state}({role})", "en": "{state} ({role})"},
})


def run(ctx: Context, args: list[str]) -> Reply:
    order = document(ctx, args[0])
    if not _may_see(ctx, order):
        raise orders.OrderNotFound(f"order {order.number} hidden", number=order.number)
    state = named(STATE_NAMES, order.state, ctx.lang)
    if order.state == "pending_approval":
        state = ctx.t("status.awaiting", state=state, role=named(ROLE_NAMES, order.awaiting_role, ctx.lang))
    head = ctx.t("status.head", number=order.number, lines=lines_summary(ctx.session, order),
                 total=money(order.total), state=state)
    entries, offset = [], utc_offset_hours(ctx)
    for entry in audit.history(ctx.session, ctx.enterprise.id, "order", order.id):
        if entry.action == "order.create":
            continue  # submit follows at once; the creation adds nothing to read
        action = named(ACTIONS, entry.action, ctx.lang)
        who = clip_word(user_name(ctx.session, entry.actor_user_id), 12) if entry.actor_user_id else ""
        entries.append(" ".join(part for part in (when(entry.at, offset), who, action) if part))
    return Reply(join_fitting(head, entries[-6:], "; "))


def _may_see(ctx: Context, order: orders.Order) -> bool:
    if order.requester_user_id == ctx.user.id:
        return True
    perms = rbac.permissions_of(ctx.session, ctx.user)
    return "order.view_all" in perms or "order.approve" in perms


COMMAND = Command(
    name="STATUS",
    pinyin="CX",
    chinese="查询",
    handler=run,
    min_args=1,
    max_args=1,
    module="orders",
    synopsis={"zh": "查询 单号", "en": "STATUS <no>"},
    usage={
        "zh": "查询 单号 (或 CX): 单据的状态和经过。例: 查询 1001",
        "en": "STATUS <no> (or CX): state and history of a document. E.g. STATUS 1001",
    },
)
