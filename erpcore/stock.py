"""Stock levels: how many of an item each site holds, and the STOCK query over them.

Rows are per (item, site); a site with no row holds none. Every query is scoped to one
enterprise through both the item and the site, so a level can never leak across tenants.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, UniqueConstraint, bindparam, func, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from erpcore import events, memo
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.items import AmbiguousItem, Item, ItemNotFound, find_item_ref
from erpcore.sites import Site, SiteNotFound, get_site, list_sites, remembered_site
from erpcore.tenants import transaction_memo

__all__ = [
    "AmbiguousItem",
    "ItemNotFound",
    "SiteNotFound",
    "SiteQuantity",
    "StockLevel",
    "StockResult",
    "stock_of",
]


class StockLevel(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (UniqueConstraint("item_id", "site_id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )

    item: Mapped[Item] = relationship()
    site: Mapped[Site] = relationship()


#: Built once: building and cache-keying a statement per MO cost more than running it.
_LEVELS = select(StockLevel.site_id, StockLevel.quantity).where(
    StockLevel.item_id == bindparam("item_id"),
    StockLevel.site_id.in_(bindparam("site_ids", expanding=True)),
)
_SITE_BY_ID = select(Site.id, Site.code, Site.name, Site.name_en, Site.enterprise_id).where(
    Site.id == bindparam("site_id")
)
_SITE_MEMO = "merp.stock_site_by_id"


@dataclass(frozen=True)
class SiteQuantity:
    """One site's holding of the item, with both names so replies can pick a language."""

    code: str
    name: str
    name_en: str | None
    quantity: int


@dataclass(frozen=True)
class StockResult:
    """Plain answer to a stock query (no ORM objects, safe to pass between threads)."""

    sku: str
    name: str
    name_en: str | None
    model: str | None
    levels: tuple[SiteQuantity, ...]
    all_sites: bool  # True when no site was asked for and the user has none

    @property
    def total(self) -> int:
        return sum(level.quantity for level in self.levels)


def stock_of(
    session: Session,
    enterprise_id: int,
    item_query: str,
    site_code: str | None = None,
    default_site_id: int | None = None,
) -> StockResult:
    """Stock of the item ``item_query`` names (SKU, model or TAC): at ``site_code`` when
    given, else at ``default_site_id`` (the user's own site), else at every site of the
    enterprise, most stock first. Raises ItemNotFound, AmbiguousItem or SiteNotFound."""
    item = find_item_ref(session, enterprise_id, item_query)
    if site_code:
        sites = [get_site(session, enterprise_id, site_code)]
    elif default_site_id is not None:
        site = _site_by_id(session, default_site_id)
        if site is None or site.enterprise_id != enterprise_id:
            raise SiteNotFound(str(default_site_id))
        sites = [site]
    else:
        sites = list_sites(session, enterprise_id)
    held = _remembered_levels(session, item.id, [s.id for s in sites]) if sites else {}
    if held is None:
        rows = session.connection().execute(
            _LEVELS, {"item_id": item.id, "site_ids": [s.id for s in sites]}
        )
        held = {site_id: quantity for site_id, quantity in rows}
    levels = [
        SiteQuantity(site.code, site.name, site.name_en, int(held.get(site.id, 0))) for site in sites
    ]
    all_sites = not site_code and default_site_id is None
    if all_sites:
        levels.sort(key=lambda level: -level.quantity)  # stable: ties keep site order
    return StockResult(item.sku, item.name, item.name_en, item.model, tuple(levels), all_sites)


def _site_by_id(session: Session, site_id: int):
    """A site's columns by primary key, remembered for the rest of the transaction (the
    users of a dispatcher batch share a few sites; an entity load per MO cost more than
    the whole stock query)."""
    site = remembered_site(session, site_id)
    if site is not None:
        return site
    kept = transaction_memo(session, _SITE_MEMO)
    if site_id not in kept:
        kept[site_id] = session.connection().execute(_SITE_BY_ID, {"site_id": site_id}).first()
    return kept[site_id]


def set_quantity(session: Session, item: Item, site: Site, quantity: int) -> StockLevel:
    """Set the level of ``item`` at ``site`` (creating the row); both must share a tenant."""
    if item.enterprise_id != site.enterprise_id:
        raise ValueError("item and site belong to different enterprises")
    level = session.scalars(
        select(StockLevel).where(StockLevel.item_id == item.id, StockLevel.site_id == site.id)
    ).first()
    invalidate_levels(session, item.id, [site.id])
    if level is None:
        level = StockLevel(item=item, site=site, quantity=quantity)
        session.add(level)
    else:
        level.quantity = quantity
    return level


# -- read ahead for a dispatcher batch (erpcore.memo) --------------------------------------

_LEVELS_MEMO = "merp.stock_levels"
memo.forget_on_flush(StockLevel, _LEVELS_MEMO)
_LEVEL_PAIRS = select(StockLevel.item_id, StockLevel.site_id, StockLevel.quantity).where(
    tuple_(StockLevel.item_id, StockLevel.site_id).in_(bindparam("pairs", expanding=True))
)
_CHUNK = 500


def remember_levels(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Read the quantities of these (item id, site id) pairs in one query and keep them
    (a pair with no row: 0, as `stock_of` reads it) for `stock_of`. A movement drops what
    it changes (`invalidate_levels`)."""
    kept = memo.memo(session, _LEVELS_MEMO)
    wanted = sorted({pair for pair in pairs if pair not in kept})
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found = {(item_id, site_id): int(quantity)
                 for item_id, site_id, quantity in session.execute(_LEVEL_PAIRS, {"pairs": chunk})}
        for pair in chunk:
            kept[pair] = found.get(pair, 0)


def invalidate_levels(session: Session, item_id: int, site_ids: Iterable[int]) -> None:
    """Forget the read-ahead quantities of ``item_id`` at ``site_ids``: call it for every
    level a write changes (a savepoint may roll the write back, so the memo is never
    patched with the new quantity)."""
    memo.forget(session, _LEVELS_MEMO, [(item_id, site_id) for site_id in site_ids])


def _remembered_levels(session: Session, item_id: int, site_ids: list[int]) -> dict[int, int] | None:
    """Quantities by site if every one was read ahead, else None (then query)."""
    kept = memo.settled(session, _LEVELS_MEMO)
    if not kept:
        return None
    held = {}
    for site_id in site_ids:
        quantity = kept.get((item_id, site_id))
        if quantity is None:
            return None
        held[site_id] = quantity
    return held


def _forget_changed_level(session: Session, event: events.StockChanged) -> None:
    invalidate_levels(session, event.item_id, [event.site_id])


# Movements publish StockChanged for every level they changed (erpcore.movements).
events.subscribe(events.StockChanged, _forget_changed_level)
