"""Booking the receipt of an approved SMS order (see commands.order for the design).

Done with the approver's rights: whoever gives the final approval and may move stock
(a manager) books the receipt in the same transaction. When they may not (finance), or
the item needs IMEIs (serialised handsets, received on the web page with their IMEIs),
the order stays approved and the reply says so; nothing half-moves (orders.fulfil).
"""
from __future__ import annotations

from commands.formatting import site_name
from commands.registry import Context
from commands.replies import register
from erpcore import audit, orders, rbac
from erpcore.errors import ErpError
from erpcore.items import Item
from erpcore.sites import Site

register({
    "delivery.received": {"zh": "已入库{site},现有{now}。", "en": "Received at {site}, now {now}."},
    "delivery.later": {"zh": "待仓管入库。", "en": "To be received by the storekeeper."},
})


def receive(ctx: Context, order: orders.Order, trail: audit.Trail | None = None) -> str:
    """Fulfil an approved purchase order now if the user may; the text to add to the reply.
    ``trail``: the command's audit trail, which then takes the receipt's entries.

    No savepoint of its own: orders.fulfil refuses before its first write or inside its
    own savepoint, so a refusal leaves nothing behind. The site and the item are loaded
    first and held: the movement's checks find them in the session, and the reply tells
    the quantity the movement left rather than reading it back."""
    if order.state != "approved" or order.kind != "purchase":
        return ""
    if not rbac.has_permission(ctx.session, ctx.user, "stock.move"):
        return ctx.t("delivery.later")
    site = ctx.session.get(Site, order.to_site_id)
    line = order.lines[0]
    item = ctx.session.get(Item, line.item_id)
    levels: dict[tuple[int, int], int] = {}
    try:
        orders.fulfil(ctx.session, ctx.enterprise.id, order, ctx.user.id, levels=levels, trail=trail)
    except ErpError:
        return ctx.t("delivery.later")
    now = f"{item.sku} {levels.get((line.item_id, site.id), 0)}"
    return ctx.t("delivery.received", site=site_name(site, ctx.lang), now=now)
