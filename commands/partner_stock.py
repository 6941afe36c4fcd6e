"""STOCK <item> <company>: a partner enterprise's stock, as much as sharing allows
(erpcore.sharing.shared_stock: the total at "summary", per site from "detail").
Used by STOCK when its site word names no site of the user's own enterprise."""
from __future__ import annotations

from sqlalchemy import func, select

from commands.errors import error_text
from commands.length import join_fitting
from commands.registry import Context, Reply
from erpcore import sharing
from erpcore.errors import ErpError
from erpcore.tenants import Enterprise


def lookup(ctx: Context, item_query: str, company: str) -> Reply | None:
    """The partner's stock reply, or None when ``company`` names no other enterprise."""
    partner = ctx.session.scalars(
        select(Enterprise).where(func.upper(Enterprise.code) == company.strip().upper(),
                                 Enterprise.id != ctx.enterprise.id)
    ).first()
    if partner is None:
        return None
    try:
        shared = sharing.shared_stock(ctx.session, ctx.enterprise.id, partner.id, item_query)
    except ErpError as error:
        code = "share.not_shared" if error.code == "share.not_shared" else "item.not_found"
        return Reply(error_text(code, ctx.lang, query=item_query[:20]), ok=False)
    head = f"{partner.code} {shared.sku}: "
    if not shared.sites:
        return Reply(f"{head}{shared.total}")
    return Reply(join_fitting(head, [f"{site.code} {site.quantity}" for site in shared.sites]))
