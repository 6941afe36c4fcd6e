"""REJECT <doc> <reason> (``N 1001 too dear``): reject a document; the reason is required
and goes to the requester by SMS (commands.notices)."""
from __future__ import annotations

from commands.approve import document
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import approvals

register({
    "reject.done": {"zh": "已驳回订单{number},已通知下单人。", "en": "Order {number} rejected; the requester is told."},
})


def run(ctx: Context, args: list[str]) -> Reply:
    order = document(ctx, args[0])
    approvals.reject(ctx.session, ctx.enterprise.id, order, ctx.user.id, " ".join(args[1:]))
    return Reply(ctx.t("reject.done", number=order.number))


COMMAND = Command(
    name="REJECT",
    pinyin="BH",
    chinese="驳回",
    aliases=("N",),
    handler=run,
    min_args=1,
    module="approval",
    writes=True,
    synopsis={"zh": "驳回 单号 原因", "en": "REJECT <no> <reason>"},
    usage={
        "zh": "驳回 单号 原因 (或 N / BH): 驳回单据,须写原因。例: N 1001 价格太高",
        "en": "REJECT <no> <reason> (or N / BH): rejects a document; a reason is required."
              " E.g. N 1001 price too high",
    },
)
