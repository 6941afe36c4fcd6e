"""ORDER <item> <qty> [site]: a clerk orders stock into their site (or the named one).

Design (issue 4): an SMS order is a *purchase* order, one line at the item's list price,
received at the user's own site unless another is named. It is created and submitted at
once, so the enterprise's approval rules decide whether it waits for an approver (who is
told by SMS: commands.notices) or is approved at once. The reply carries its number, which
APPROVE, REJECT and STATUS take. Stock moves when the order is finally approved
(commands.approve: the approval books the receipt).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands import delivery, groups
from commands.errors import error_text, named, ROLE_NAMES
from commands.formatting import money, sentences, site_name, whole
from commands.registry import Command, Context, Group, Reply
from commands.replies import register
from commands.stock import no_such_site
from erpcore import orders, rbac, sequences
from erpcore.items import Item, find_item
from erpcore.sites import Site, find_site

register({
    "order.waiting": {
        "zh": "订单{number}已提交: {sku}x{qty} 到{site} 共{total}元,待{role}审批。发 查询 {number} 跟进。",
        "en": "Order {number}: {sku} x{qty} to {site}, total {total}, awaiting {role} approval."
              " Send STATUS {number} to follow it.",
    },
    "order.approved": {
        "zh": "订单{number}已批准: {sku}x{qty} 到{site} 共{total}元。",
        "en": "Order {number} approved: {sku} x{qty} to {site}, total {total}.",
    },
})


@dataclass(frozen=True)
class Plan:
    """A checked ORDER: what to create and what the reply names."""

    draft: orders.Draft
    item: Item
    site: Site
    quantity: int


def plan(ctx: Context, args: list[str]) -> Plan | Reply:
    item = find_item(ctx.session, ctx.enterprise.id, args[0])
    quantity = whole(args[1])
    if quantity is None:
        return Reply(error_text("order.bad_quantity", ctx.lang), ok=False)
    site = find_site(ctx.session, ctx.enterprise.id, args[2]) if len(args) > 2 else ctx.user.site
    if site is None and len(args) > 2:
        return no_such_site(ctx, args[2])
    if site is None:
        return Reply(error_text("order.site_required", ctx.lang), ok=False)
    # The right, checked here as creating the order would check it: a storekeeper's ORDER
    # then does not fail the batch's group (commands.groups).
    rbac.require(ctx.session, ctx.user, "order.create")
    draft = orders.Draft("purchase", ctx.user.id, [orders.LineIn(item.id, quantity)], to_site_id=site.id)
    return Plan(draft, item, site, quantity)


def carry_out(session: Session, plans: list[tuple[Context, Plan]]) -> list[orders.Order]:
    """Every plan's order, created and submitted at once, whatever its enterprise."""
    return orders.create_across(session, [(ctx.enterprise.id, p.draft) for ctx, p in plans], submit=True)


def answer(ctx: Context, planned: Plan, order: orders.Order) -> Reply:
    values = dict(number=order.number, sku=planned.item.sku, qty=planned.quantity,
                  site=site_name(planned.site, ctx.lang), total=money(order.total))
    if order.state == "pending_approval":
        return Reply(ctx.t("order.waiting", role=named(ROLE_NAMES, order.awaiting_role, ctx.lang), **values))
    text = ctx.t("order.approved", **values)
    received = delivery.receive(ctx, order)
    return Reply(sentences(ctx.lang, text, received))


GROUP = Group(plan=plan, carry_out=carry_out, answer=answer, hold=sequences.hold)


def run(ctx: Context, args: list[str]) -> Reply:
    return groups.run_alone(GROUP, ctx, args)


COMMAND = Command(
    name="ORDER",
    pinyin="DH",
    chinese="订货",
    handler=run,
    min_args=2,
    max_args=3,
    module="orders",
    writes=True,
    group=GROUP,
    synopsis={"zh": "订货 货品 数量 [网点]", "en": "ORDER <item> <qty> [site]"},
    usage={
        "zh": "订货 货品 数量 [网点] (或 DH): 为本网点订货,回复单号,需审批时通知审批人。例: 订货 X100 5",
        "en": "ORDER <item> <qty> [site] (or DH): orders stock for your site; replies with the order"
              " number and asks the approver. E.g. ORDER X100 5",
    },
)
