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
    waiting = not_now(ctx, order)
    if waiting is not None:
        return waiting
    site, item = _site_and_item(ctx, order)
    levels: dict[tuple[int, int], int] = {}
    try:
        orders.fulfil(ctx.session, ctx.enterprise.id, order, ctx.user.id, levels=levels, trail=trail)
    except ErpError:
        return ctx.t("delivery.later")
    return received(ctx, order, levels, site, item)


def not_now(ctx: Context, order: orders.Order) -> str | None:
    """The text when this approval books no receipt now ("" or "later"); None: book it."""
    if order.state != "approved" or order.kind != "purchase":
        return ""
    if not rbac.has_permission(ctx.session, ctx.user, "stock.move"):
        return ctx.t("delivery.later")
    return None


def by_imei(ctx: Context, order: orders.Order) -> bool:
    """Whether a line's item moves by IMEI (received on the web page, not by SMS)."""
    return any(ctx.session.get(Item, line.item_id).serialised for line in order.lines)


def received(ctx: Context, order: orders.Order, levels: dict[tuple[int, int], int], site: Site | None = None,
             item: Item | None = None) -> str:
    """The receipt's text: where, and the first line's item quantity there now."""
    if site is None or item is None:
        site, item = _site_and_item(ctx, order)
    line = order.lines[0]
    now = f"{item.sku} {levels.get((line.item_id, site.id), 0)}"
    return ctx.t("delivery.received", site=site_name(site, ctx.lang), now=now)


def _site_and_item(ctx: Context, order: orders.Order) -> tuple[Site, Item]:
    return ctx.session.get(Site, order.to_site_id), ctx.session.get(Item, order.lines[0].item_id)
