"""Items (products) an enterprise stocks, found by SKU, model or TAC.

The TAC is the first 8 digits of a handset's IMEI and names its make and model, so a
field worker can look an item up from the handset in hand; a full IMEI (14-16 digits)
is accepted and its TAC used.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, bindparam, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base

TAC_LENGTH = 8


class ItemError(Exception):
    """Base of the errors this module raises."""


class ItemNotFound(ItemError):
    """No item of this enterprise has this SKU, model or TAC."""

    def __init__(self, query: str):
        super().__init__(f"no item {query!r}")
        self.query = query


class AmbiguousItem(ItemError):
    """Several items share this model or TAC; the SKU tells them apart."""

    def __init__(self, query: str, skus: list[str]):
        super().__init__(f"{query!r} matches several items: {', '.join(skus)}")
        self.query = query
        self.skus = skus


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("enterprise_id", "sku"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str | None] = mapped_column(String(128))
    brand: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    tac: Mapped[str | None] = mapped_column(String(TAC_LENGTH), index=True)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    # Handsets tracked one by one by IMEI (erpcore.imei); others are plain quantities.
    serialised: Mapped[bool] = mapped_column(default=False, server_default="0")

    def __repr__(self) -> str:
        return f"<Item {self.sku}>"

    def display_name(self, lang: str) -> str:
        """The name to show a reader of ``lang``."""
        if lang == "en":
            return self.name_en or self.name
        return self.name


def tac_of(query: str) -> str | None:
    """The TAC a query names: 8 digits as such, or the first 8 of a 14-16 digit IMEI."""
    if query.isascii() and query.isdigit() and (len(query) == TAC_LENGTH or 14 <= len(query) <= 16):
        return query[:TAC_LENGTH]
    return None


@dataclass(frozen=True)
class ItemRef:
    """The columns a query answer needs, without loading an ORM entity."""

    id: int
    sku: str
    name: str
    name_en: str | None
    model: str | None


# Built once: building and cache-keying statements per MO cost more than running them.
_IN_TENANT = select(Item).where(Item.enterprise_id == bindparam("enterprise_id")).order_by(Item.sku)
_BY_SKU = _IN_TENANT.where(func.upper(Item.sku) == bindparam("value"))
_BY_MODEL = _IN_TENANT.where(func.upper(Item.model) == bindparam("value"))
_BY_TAC = _IN_TENANT.where(Item.tac == bindparam("value"))
_REF_IN_TENANT = (select(Item.id, Item.sku, Item.name, Item.name_en, Item.model)
                  .where(Item.enterprise_id == bindparam("enterprise_id")).order_by(Item.sku))
_REF_BY = {
    "sku": _REF_IN_TENANT.where(func.upper(Item.sku) == bindparam("value")),
    "model": _REF_IN_TENANT.where(func.upper(Item.model) == bindparam("value")),
    "tac": _REF_IN_TENANT.where(Item.tac == bindparam("value")),
}


def _candidates(query: str) -> list[tuple[str, str]]:
    """(how, value) lookups in order: SKU, model, then TAC (case-insensitive)."""
    key = query.upper()
    found = [("sku", key), ("model", key)]
    tac = tac_of(query)
    if tac is not None:
        found.append(("tac", tac))
    return found


def find_item(session: Session, enterprise_id: int, query: str) -> Item:
    """The one item of the enterprise that ``query`` names, by SKU first, then model,
    then TAC (case-insensitive). Raises ItemNotFound or AmbiguousItem."""
    query = query.strip()
    if not query:
        raise ItemNotFound(query)
    statements = {"sku": _BY_SKU, "model": _BY_MODEL, "tac": _BY_TAC}
    for how, value in _candidates(query):
        found = list(session.scalars(statements[how],
                                     {"enterprise_id": enterprise_id, "value": value}))
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousItem(query, [item.sku for item in found])
    raise ItemNotFound(query)


def find_item_ref(session: Session, enterprise_id: int, query: str) -> ItemRef:
    """Like `find_item`, as plain columns: for read-only answers on the SMS hot path,
    where loading an entity costs more than the query."""
    query = query.strip()
    if not query:
        raise ItemNotFound(query)
    connection = session.connection()
    for how, value in _candidates(query):
        found = connection.execute(
            _REF_BY[how], {"enterprise_id": enterprise_id, "value": value}).all()
        if len(found) == 1:
            return ItemRef(*found[0])
        if found:
            raise AmbiguousItem(query, [row.sku for row in found])
    raise ItemNotFound(query)
