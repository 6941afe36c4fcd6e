"""Items (products) an enterprise stocks, found by SKU, model or TAC.

The TAC is the first 8 digits of a handset's IMEI and names its make and model, so a
field worker can look an item up from the handset in hand; a full IMEI (14-16 digits)
is accepted and its TAC used.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, bindparam, func, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import memo
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
    remembered = _remembered_sku(session, enterprise_id, query)
    if remembered is not None:
        return remembered
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
    remembered = _remembered_sku(session, enterprise_id, query)
    if remembered is not None:
        return ItemRef(remembered.id, remembered.sku, remembered.name, remembered.name_en, remembered.model)
    connection = session.connection()
    for how, value in _candidates(query):
        found = connection.execute(
            _REF_BY[how], {"enterprise_id": enterprise_id, "value": value}).all()
        if len(found) == 1:
            return ItemRef(*found[0])
        if found:
            raise AmbiguousItem(query, [row.sku for row in found])
    raise ItemNotFound(query)


# -- read ahead for a dispatcher batch (erpcore.memo) --------------------------------------

_SKU_MEMO = "merp.items_by_sku"
_ID_MEMO = "merp.items_by_id"
memo.forget_on_flush(Item, _SKU_MEMO)
memo.forget_on_flush(Item, _ID_MEMO)
_BY_SKUS = select(Item).where(
    Item.enterprise_id.in_(bindparam("enterprise_ids", expanding=True)),
    func.upper(Item.sku).in_(bindparam("skus", expanding=True)),
)
_BY_IDS = select(Item).where(Item.id.in_(bindparam("ids", expanding=True)))
_CHUNK = 500


def remember_skus(session: Session, queries: Iterable[tuple[int, str]]) -> int:
    """Load the items these (enterprise id, query) pairs name by SKU in one query and keep
    each query that names exactly one, so `find_item` / `find_item_ref` answer it without
    a query; returns how many are kept. Only plain ASCII queries are read ahead (their
    case-folding is the same in Python, SQLite and MariaDB); a query matching no SKU, or
    a SKU the database's collation might also match another row by, is left to the
    normal lookup (model, TAC)."""
    wanted = {(eid, query.strip().upper()) for eid, query in queries if _plain(query.strip())}
    if not wanted:
        return 0
    rows: list[Item] = []
    enterprise_ids = sorted({eid for eid, _key in wanted})
    keys = sorted({key for _eid, key in wanted})
    for start in range(0, len(keys), _CHUNK):
        rows.extend(session.scalars(_BY_SKUS, {"enterprise_ids": enterprise_ids, "skus": keys[start:start + _CHUNK]}))
    return len(memo.keep_unambiguous(session, _SKU_MEMO, wanted, rows, attrgetter("sku")))


def remember_items(session: Session, item_ids: Iterable[int]) -> None:
    """Load these items in one query and hold them for the rest of the transaction, so
    that ``session.get(Item, id)`` finds them in the session (an order's lines)."""
    kept = memo.memo(session, _ID_MEMO)
    ids = sorted({i for i in item_ids if i not in kept})
    for start in range(0, len(ids), _CHUNK):
        for item in session.scalars(_BY_IDS, {"ids": ids[start:start + _CHUNK]}):
            kept[item.id] = item


def remembered_item(session: Session, enterprise_id: int, query: str) -> Item | None:
    """The item `remember_skus` kept for this query, else None (no query is made)."""
    query = query.strip()
    return _remembered_sku(session, enterprise_id, query) if query else None


def _remembered_sku(session: Session, enterprise_id: int, query: str) -> Item | None:
    kept = memo.settled(session, _SKU_MEMO)
    if not kept:
        return None
    key = query.upper()
    item = kept.get((enterprise_id, key))
    if item is None or not inspect(item).persistent:
        return None
    if item.enterprise_id != enterprise_id or item.sku.upper() != key:
        return None
    return item


def _plain(query: str) -> bool:
    return bool(query) and query.isascii() and query.isprintable()


