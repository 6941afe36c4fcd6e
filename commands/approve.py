"""APPROVE <doc> [PIN] [comment] (``Y 1001``): approve the level a document awaits.

The final approval of an SMS purchase order also books its receipt (commands.delivery).
PIN (optional, gateway config ``[commands] approval_pin_above``): approving a document
whose total reaches the amount needs the approver's PIN as the word after the number.
The PIN is the user's erpcore password (scrypt-hashed in ``user_credentials`` by
erpcore.auth, set on the web/admin side), so it shares its lockout: five wrong PINs lock
approvals for 15 minutes. A wrong PIN's failure count is kept although nothing else changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands import delivery, groups
from commands.errors import ROLE_NAMES, named
from commands.formatting import number_arg, sentences
from commands.registry import Command, Context, Group, Reply
from commands.replies import register
from erpcore import approvals, audit, auth, fulfilment, orders, rbac

register({
    "approve.done": {"zh": "已同意订单{number}。", "en": "Order {number} approved."},
    "approve.next": {"zh": "已同意订单{number},转{role}审批。", "en": "Order {number} approved; now awaits a {role}."},
    "approve.pin_needed": {
        "zh": "订单{number}金额较大,请附密码: Y {number} 密码",
        "en": "Order {number} needs your PIN; send Y {number} <PIN>",
    },
    "approve.no_pin": {
        "zh": "您尚未设置密码,请在网页设置后再发 Y {number} 密码",
        "en": "You have no PIN yet; set your password on the web, then send Y {number} <PIN>",
    },
    "approve.bad_pin": {
        "zh": "密码错误,订单{number}未审批。请重发: Y {number} 密码",
        "en": "Wrong PIN; order {number} not approved. Send Y {number} <PIN>",
    },
})


def document(ctx: Context, text: str) -> orders.Order:
    """The enterprise's order this word numbers; another tenant's reads as no such document."""
    number = number_arg(text)
    if number is None:
        raise orders.OrderNotFound(f"no order {text!r}", number=text[:12])
    return orders.get_order(ctx.session, ctx.enterprise.id, number)


def needs_pin(ctx: Context, order: orders.Order) -> bool:
    limit = ctx.options.pin_above if ctx.options is not None else None
    return limit is not None and order.total >= limit


@dataclass(frozen=True)
class Plan:
    """A checked approval: the order and the approver's comment."""

    order: orders.Order
    comment: str


def plan(ctx: Context, args: list[str]) -> Plan | object:
    """The approval, checked as approving checks it; ALONE when it needs a PIN."""
    order = document(ctx, args[0])
    if needs_pin(ctx, order):
        return groups.ALONE
    approvals.check_approval(ctx.session, ctx.enterprise.id, order, ctx.user.id)
    return Plan(order, " ".join(args[1:]))


def carry_out(session: Session, plans: list[tuple[Context, Plan]]) -> list[str]:
    """Every plan's approval at once, then the receipts the final ones book, together; for
    each, the receipt's text ("" when none)."""
    trails: dict[int, audit.Trail] = {}  # one per enterprise: one INSERT for approvals and receipts
    approvals.approve_across(session, [approvals.Decision(ctx.enterprise.id, p.order, ctx.user.id, p.comment)
                                       for ctx, p in plans], trails=trails)
    receipts = [delivery.not_now(ctx, p.order) for ctx, p in plans]
    for index, (ctx, p) in enumerate(plans):
        if receipts[index] is None and delivery.by_imei(ctx, p.order):
            receipts[index] = ctx.t("delivery.later")  # as orders.fulfil would refuse it
    booking = [index for index, text in enumerate(receipts) if text is None]
    levels = fulfilment.fulfil_across(session, [
        fulfilment.Request(plans[i][0].enterprise.id, plans[i][1].order, plans[i][0].user.id) for i in booking
    ], trails=trails)
    for index, after in zip(booking, levels):
        ctx, p = plans[index]
        receipts[index] = delivery.received(ctx, p.order, after)
    for trail in trails.values():
        trail.write()
    return receipts


def answer(ctx: Context, planned: Plan, receipt: str) -> Reply:
    order = planned.order
    if order.state == "pending_approval":
        role = named(ROLE_NAMES, order.awaiting_role, ctx.lang)
        return Reply(ctx.t("approve.next", number=order.number, role=role))
    return Reply(sentences(ctx.lang, ctx.t("approve.done", number=order.number), receipt))


def touches(ctx: Context, args: list[str]) -> str:
    """The document a later approval must not be planned against before this one is done."""
    return number_arg(args[0]) or args[0]


GROUP = Group(plan=plan, carry_out=carry_out, answer=answer, touches=touches)


def run(ctx: Context, args: list[str]) -> Reply:
    return groups.run_alone(GROUP, ctx, args, alone=_with_pin)


def _with_pin(ctx: Context, args: list[str]) -> Reply:
    """An approval that needs the approver's PIN: a wrong one is counted (and kept)."""
    order = document(ctx, args[0])
    rest = args[1:]
    # Refuse what approving would refuse before spending a PIN attempt on it.
    rbac.require(ctx.session, ctx.user, "order.approve")
    orders.check_transition(order, "approved")
    if not rest:
        return Reply(ctx.t("approve.pin_needed", number=order.number), ok=False)
    if not auth.has_password(ctx.session, ctx.user):
        return Reply(ctx.t("approve.no_pin", number=order.number), ok=False)
    pin, rest = rest[0], rest[1:]
    if not auth.verify_password(ctx.session, ctx.user, pin):
        return Reply(ctx.t("approve.bad_pin", number=order.number), ok=False)
    planned = Plan(order, " ".join(rest))
    return answer(ctx, planned, carry_out(ctx.session, [(ctx, planned)])[0])


COMMAND = Command(
    name="APPROVE",
    pinyin="TY",
    chinese="同意",
    aliases=("Y",),
    handler=run,
    min_args=1,
    module="approval",
    writes=True,
    group=GROUP,
    synopsis={"zh": "同意 单号 [意见]", "en": "APPROVE <no> [comment]"},
    usage={
        "zh": "同意 单号 [意见] (或 Y / TY): 审批通过单据,大额单据附密码。例: Y 1001",
        "en": "APPROVE <no> [comment] (or Y / TY): approves a document; large ones need your PIN"
              " after the number. E.g. Y 1001",
    },
)
