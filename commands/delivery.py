"""Booking the receipt of an approved SMS order (see commands.order for the design).

Done with the approver's rights: whoever gives the final approval and may move stock
(a manager) books the receipt in the same transaction. When they may not (finance), or
the item needs IMEIs (serialised handsets, received on the web page with their IMEIs),
the order stays approved and the reply says so; nothing half-moves (own savepoint).
"""
from __future__ import annotations

from sqlalchemy import select

from commands.formatting import site_name
from commands.registry import Context
from commands.replies import register
from erpcore import orders, rbac
from erpcore.errors import ErpError
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel

register({
    "delivery.received": {"zh": "已入库{site},现有{now}。", "en": "Received at {site}, now {now}."},
    "delivery.later": {"zh": "待仓管入库。", "en": "To be received by the storekeeper."},
})


def receive(ctx: Context, order: orders.Order) -> str:
    """Fulfil an approved purchase order now if the user may; the text to add to the reply."""
    if order.state != "approved" or order.kind != "purchase":
        return ""
    if not rbac.has_permission(ctx.session, ctx.user, "stock.move"):
        return ctx.t("delivery.later")
    try:
        with ctx.session.begin_nested():
            orders.fulfil(ctx.session, ctx.enterprise.id, order, ctx.user.id)
    except ErpError:
        return ctx.t("delivery.later")
    site = ctx.session.get(Site, order.to_site_id)
    line = order.lines[0]
    held = ctx.session.scalar(
        select(StockLevel.quantity).where(StockLevel.item_id == line.item_id, StockLevel.site_id == site.id)
    )
    item = ctx.session.get(Item, line.item_id)
    now = f"{item.sku} {held or 0}"
    return ctx.t("delivery.received", site=site_name(site, ctx.lang), now=now)
