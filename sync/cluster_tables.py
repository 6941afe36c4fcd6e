"""The cluster's synced tables: an enterprise's items and stock levels from erpcore, in
canonical terms.

items: sku (key), name, name_en, brand, model, tac, unit_price.
stock: sku, site (site code) — the key — and quantity. Stock rows name the item and the
site by their codes, since the two sides' internal ids mean nothing to each other. A synced
level is the enterprise's figure: it is written as is (no movement is booked for it).
"""
from __future__ import annotations

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel
from sync.rawsql import fetch
from sync.source import TableSource, chunk_statement, keyset_after
from sync.spec import Rule, TableSpec

ITEM_FIELDS = ("sku", "name", "name_en", "brand", "model", "tac", "unit_price")
STOCK_FIELDS = ("sku", "site", "quantity")


class RowRejected(Exception):
    """A row this side cannot store (e.g. stock of an unknown item); reported per row."""


ITEM_KEY_FIELDS = ("sku", "name", "unit_price")  # what a fast scan looks at by default
STOCK_KEY_FIELDS = STOCK_FIELDS


def items_spec(rule: Rule = Rule.ENTERPRISE_WINS, key_fields=ITEM_KEY_FIELDS) -> TableSpec:
    return TableSpec("items", ("sku",), ITEM_FIELDS, key_fields=tuple(key_fields), rule=rule)


def stock_spec(rule: Rule = Rule.ENTERPRISE_WINS, key_fields=STOCK_KEY_FIELDS) -> TableSpec:
    return TableSpec("stock", ("sku", "site"), STOCK_FIELDS, key_fields=tuple(key_fields),
                     rule=rule)


SPECS = {"items": items_spec, "stock": stock_spec}
FIELDS = {"items": ITEM_FIELDS, "stock": STOCK_FIELDS}


def items_source(enterprise_id: int, spec: TableSpec | None = None) -> TableSource:
    return TableSource(spec or items_spec(), Item.__table__, scope={"enterprise_id": enterprise_id})


class StockSource:
    """Stock levels of one enterprise keyed by (SKU, site code)."""

    def __init__(self, enterprise_id: int, spec: TableSpec | None = None):
        self.spec = spec or stock_spec()
        self.enterprise_id = enterprise_id
        items, sites, levels = Item.__table__, Site.__table__, StockLevel.__table__
        self.pk_columns = [items.c.sku, sites.c.code]
        self._select = (
            select(items.c.sku, sites.c.code, levels.c.quantity)
            .select_from(levels.join(items, levels.c.item_id == items.c.id)
                         .join(sites, levels.c.site_id == sites.c.id))
            .where(items.c.enterprise_id == enterprise_id, sites.c.enterprise_id == enterprise_id)
        )

    def read_chunk(self, conn: Connection, after: tuple | None, limit: int) -> list[tuple]:
        query = self._select
        if after is not None:
            query = query.where(keyset_after(self.pk_columns, after))
        return fetch(conn, query.order_by(*self.pk_columns).limit(limit))

    def chunk_statement(self, fields, after: bool):
        """As `TableSource.chunk_statement`: the fields at these positions, one chunk."""
        columns = [self._select.selected_columns[i] for i in fields]
        return chunk_statement(columns, self._select, self.pk_columns, after)

    def read_many(self, conn: Connection, pks) -> dict[tuple, tuple]:
        """One query per 500 keys (SKUs in, sites in; the pairs picked out here)."""
        pks = [tuple(p) for p in pks]
        found = {}
        for start in range(0, len(pks), 500):
            wanted = set(pks[start:start + 500])
            rows = fetch(conn, self._select.where(
                self.pk_columns[0].in_(sorted({p[0] for p in wanted})),
                self.pk_columns[1].in_(sorted({p[1] for p in wanted}))))
            for row in rows:
                if (row[0], row[1]) in wanted:
                    found[(row[0], row[1])] = tuple(row)
        return found

    def _id_map(self, conn: Connection, pks) -> dict[tuple, tuple[int, int]]:
        """(item id, site id) of the keys whose item and site both exist (two queries)."""
        items = dict(conn.execute(select(Item.sku, Item.id).where(
            Item.enterprise_id == self.enterprise_id, Item.sku.in_({p[0] for p in pks}))).all())
        sites = dict(conn.execute(select(Site.code, Site.id).where(
            Site.enterprise_id == self.enterprise_id, Site.code.in_({p[1] for p in pks}))).all())
        return {(sku, site): (items[sku], sites[site]) for sku, site in pks
                if sku in items and site in sites}

    def _levels(self, conn: Connection, rows) -> list[dict]:
        ids = self._id_map(conn, [tuple(r[:2]) for r in rows])
        if len(ids) < len({tuple(r[:2]) for r in rows}):
            raise RowRejected("unknown item or site")  # the row-by-row retry names it
        return [{"_item": ids[(sku, site)][0], "_site": ids[(sku, site)][1],
                 "_qty": int(quantity)} for sku, site, quantity in rows]

    def update_many(self, conn: Connection, rows) -> None:
        levels = StockLevel.__table__
        conn.execute(update(levels).where(levels.c.item_id == bindparam("_item"),
                                          levels.c.site_id == bindparam("_site"))
                     .values(quantity=bindparam("_qty")), self._levels(conn, rows))

    def insert_many(self, conn: Connection, rows) -> None:
        levels = StockLevel.__table__
        conn.execute(insert(levels), [{"item_id": p["_item"], "site_id": p["_site"],
                                       "quantity": p["_qty"]} for p in self._levels(conn, rows)])

    def delete_many(self, conn: Connection, pks) -> None:
        levels = StockLevel.__table__
        ids = list(self._id_map(conn, [tuple(p) for p in pks]).values())
        if ids:  # unknown items or sites have nothing to delete
            conn.execute(levels.delete().where(levels.c.item_id == bindparam("_item"),
                                               levels.c.site_id == bindparam("_site")),
                         [{"_item": i, "_site": s} for i, s in ids])

    def _ids(self, conn: Connection, sku, site) -> tuple[int, int]:
        item_id = conn.scalar(select(Item.id).where(Item.enterprise_id == self.enterprise_id,
                                                    Item.sku == sku))
        site_id = conn.scalar(select(Site.id).where(Site.enterprise_id == self.enterprise_id,
                                                    Site.code == site))
        if item_id is None:
            raise RowRejected(f"no item {sku!r}")
        if site_id is None:
            raise RowRejected(f"no site {site!r}")
        return item_id, site_id

    def upsert(self, conn: Connection, values: tuple) -> None:
        sku, site, quantity = values
        item_id, site_id = self._ids(conn, sku, site)
        levels = StockLevel.__table__
        match = and_(levels.c.item_id == item_id, levels.c.site_id == site_id)
        if not conn.execute(update(levels).where(match).values(quantity=int(quantity))).rowcount:
            if conn.scalar(select(levels.c.id).where(match)) is None:
                conn.execute(insert(levels).values(item_id=item_id, site_id=site_id,
                                                   quantity=int(quantity)))

    def delete(self, conn: Connection, pk: tuple) -> None:
        try:
            item_id, site_id = self._ids(conn, *pk)
        except RowRejected:
            return  # nothing to delete
        levels = StockLevel.__table__
        conn.execute(levels.delete().where(levels.c.item_id == item_id, levels.c.site_id == site_id))
