"""PENDING: the documents waiting for this user's decision, oldest first, as many as fit."""
from __future__ import annotations

from commands.formatting import lines_summary, money, user_name
from commands.length import clip_word, join_fitting
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import approvals

LISTED = 20  # documents formatted at most; three SMS never hold more
NAME_CHARS = 12  # a requester's name is cut here, so that a long one leaves room for others

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
        f"{clip_word(user_name(ctx.session, order.requester_user_id), NAME_CHARS)}"
        for order in waiting[:LISTED]
    ]
    head = ctx.t("pending.head", count=len(waiting))
    return Reply(join_fitting(head, entries, "; ", ctx.t("pending.tail"), more=len(waiting) - len(entries)))


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
