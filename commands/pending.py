"""PENDING: the documents waiting for this user's decision, oldest first, as many as fit."""
from __future__ import annotations

from commands.formatting import lines_summary, money, user_name
from commands.length import join_fitting
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import approvals

register({
    "pending.none": {"zh": "没有待您审批的单据。", "en": "Nothing awaits your approval."},
    "pending.head": {"zh": "待审({count}): ", "en": "To approve ({count}): "},
    "pending.tail": {"zh": "。回复 Y 单号 同意", "en": ". Reply Y <no> to approve"},
})


def run(ctx: Context, args: list[str]) -> Reply:
    waiting = approvals.pending_for(ctx.session, ctx.enterprise.id, ctx.user.id)
    if not waiting:
        return Reply(ctx.t("pending.none"))
    entries = [
        f"{order.number} {lines_summary(ctx.session, order)} {money(order.total)} "
        f"{user_name(ctx.session, order.requester_user_id)}"
        for order in waiting[:20]
    ]
    if len(waiting) > 20:
        entries.append(f"+{len(waiting) - 20}")
    head = ctx.t("pending.head", count=len(waiting))
    return Reply(join_fitting(head, entries, "; ", ctx.t("pending.tail")))


COMMAND = Command(
    name="PENDING",
    pinyin="DB",
    chinese="待办",
    handler=run,
    max_args=0,
    module="approval",
    synopsis={"zh": "待办", "en": "PENDING"},
    usage={
        "zh": "待办 (或 DB): 列出待您审批的单据。回复 Y 单号 同意, N 单号 原因 驳回。",
        "en": "PENDING (or DB): lists documents awaiting your approval. Reply Y <no> to approve,"
              " N <no> <reason> to reject.",
    },
)
