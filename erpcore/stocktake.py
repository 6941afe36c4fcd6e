"""Stocktake (盘点): export what the books say, import what was counted, report the
differences and optionally correct the books with adjust movements.

The CSV has one row per plain item and site (``site,sku,quantity,imei`` with an empty
imei) and one row per handset for serialised items (quantity 1, the IMEI). The counted
file has the same shape. Sites named in the counted file are counted in full: an item
the books hold there but the file omits was counted as none. Every row is checked before
anything is compared, with the line number of each error; 100,000 lines are handled by
a handful of queries.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from erpcore import imei as imei_mod
from erpcore import movements
from erpcore.errors import InvalidInput
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel

COLUMNS = ("site", "sku", "quantity", "imei")
MAX_ERRORS = 200


class StocktakeFileInvalid(InvalidInput):
    """The counted file has bad rows; ``errors`` lists (line number, message)."""

    code = "stocktake.invalid_file"

    def __init__(self, errors: list[tuple[int, str]]):
        head = "; ".join(f"line {n}: {m}" for n, m in errors[:3])
        super().__init__(f"{len(errors)} bad line(s): {head}", errors=errors[:MAX_ERRORS],
                         count=len(errors))
        self.errors = errors


@dataclass(frozen=True)
class Difference:
    site: str
    sku: str
    expected: int
    counted: int
    missing_imeis: tuple[str, ...] = ()
    extra_imeis: tuple[str, ...] = ()

    @property
    def delta(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class StocktakeReport:
    lines: int
    differences: tuple[Difference, ...]
    movement_ids: tuple[int, ...] = ()
    #: Extra IMEIs the books place at another site or as sold: a transfer or return
    #: settles them, not a stocktake adjustment.
    not_adjusted: tuple[str, ...] = field(default=())


def export_csv(session: Session, enterprise_id: int, out: TextIO,
               site_codes: Iterable[str] | None = None) -> int:
    """Write the books' stock (of the named sites, or all) as CSV; returns the rows written."""
    sites = _sites(session, enterprise_id)
    if site_codes is not None:
        wanted = {c.upper() for c in site_codes}
        sites = {sid: s for sid, s in sites.items() if s.code.upper() in wanted}
    items = _items(session, enterprise_id)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    levels = session.execute(
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.quantity)
        .where(StockLevel.site_id.in_(list(sites)), StockLevel.quantity != 0)
        .order_by(StockLevel.site_id, StockLevel.item_id)) if sites else []
    for site_id, item_id, quantity in levels:
        item = items.get(item_id)
        if item is None or item.serialised:
            continue
        writer.writerow((sites[site_id].code, item.sku, quantity, ""))
        rows += 1
    for site_id, item_id, imei in imei_mod.held_imeis(session, enterprise_id, site_ids=list(sites)):
        writer.writerow((sites[site_id].code, items[item_id].sku, 1, imei))
        rows += 1
    return rows


def import_counts(session: Session, enterprise_id: int, source: Iterable[str], *,
                  adjust: bool = False, actor_user_id: int | None = None,
                  reference: str | None = None) -> StocktakeReport:
    """Compare counted stock (CSV lines) with the books; with ``adjust``, post adjust
    movements so the books match the count. Raises StocktakeFileInvalid, changing nothing."""
    sites = _sites(session, enterprise_id)
    items = _items(session, enterprise_id)
    site_by_code = {s.code.upper(): s for s in sites.values()}
    item_by_sku = {i.sku.upper(): i for i in items.values()}
    counted_qty, counted_imeis, lines = _parse(source, site_by_code, item_by_sku)
    site_ids = sorted({site_id for site_id, _ in counted_qty} | {site_id for site_id, _ in counted_imeis})

    expected_qty: dict[tuple[int, int], int] = {}
    if site_ids:
        for site_id, item_id, quantity in session.execute(
                select(StockLevel.site_id, StockLevel.item_id, StockLevel.quantity)
                .where(StockLevel.site_id.in_(site_ids))):
            if item_id in items and not items[item_id].serialised:
                expected_qty[(site_id, item_id)] = quantity
    expected_imeis: dict[tuple[int, int], set[str]] = defaultdict(set)
    if site_ids:
        for site_id, item_id, imei in imei_mod.held_imeis(session, enterprise_id, site_ids=site_ids):
            expected_imeis[(site_id, item_id)].add(imei)

    differences: list[Difference] = []
    for key in sorted(set(expected_qty) | set(counted_qty)):
        expected, counted = expected_qty.get(key, 0), counted_qty.get(key, 0)
        if expected != counted:
            differences.append(Difference(sites[key[0]].code, items[key[1]].sku, expected, counted))
    for key in sorted(set(expected_imeis) | set(counted_imeis)):
        have, seen = expected_imeis.get(key, set()), counted_imeis.get(key, set())
        if have != seen:
            differences.append(Difference(sites[key[0]].code, items[key[1]].sku, len(have), len(seen),
                                          tuple(sorted(have - seen)), tuple(sorted(seen - have))))
    differences.sort(key=lambda d: (d.site, d.sku))
    if not adjust:
        return StocktakeReport(lines, tuple(differences))
    movement_ids, not_adjusted = _adjust(session, enterprise_id, differences, site_by_code, item_by_sku,
                                         actor_user_id, reference)
    return StocktakeReport(lines, tuple(differences), tuple(movement_ids), tuple(not_adjusted))


def _parse(source, site_by_code, item_by_sku):
    """Every row checked; (plain counts, IMEI sets, number of data lines) or the errors."""
    errors: list[tuple[int, str]] = []
    counted_qty: dict[tuple[int, int], int] = {}
    counted_imeis: dict[tuple[int, int], set[str]] = defaultdict(set)
    seen_imeis: dict[tuple[int, str], int] = {}
    # Plain values, not ORM attributes: this loop runs once per line.
    sites = {code: (s.id, s.code) for code, s in site_by_code.items()}
    items = {sku: (i.id, i.sku, bool(i.serialised), i.tac) for sku, i in item_by_sku.items()}
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:3]] != list(COLUMNS[:3]):
        raise StocktakeFileInvalid([(1, "the first line must be the header site,sku,quantity,imei")])
    lines = 0
    for number, row in enumerate(reader, start=2):
        if len(row) < 4:
            row = row + [""] * (4 - len(row))
        site_code, sku, quantity_text, imei = (cell.strip() for cell in row[:4])
        if not (site_code or sku or quantity_text or imei):
            continue
        lines += 1
        if len(errors) >= MAX_ERRORS:
            continue
        site = sites.get(site_code.upper())
        item = items.get(sku.upper())
        if site is None:
            errors.append((number, f"unknown site {site_code!r}"))
            continue
        if item is None:
            errors.append((number, f"unknown sku {sku!r}"))
            continue
        item_id, item_sku, serialised, tac = item
        key = (site[0], item_id)
        if serialised:
            if not imei:
                errors.append((number, f"{item_sku} is counted by IMEI: one row per handset"))
                continue
            problem = imei_mod.imei_problem(imei, tac)
            if problem is not None:
                errors.append((number, f"invalid IMEI {imei!r}: {problem}"))
                continue
            if (item_id, imei) in seen_imeis:
                errors.append((number, f"IMEI {imei} already on line {seen_imeis[(item_id, imei)]}"))
                continue
            seen_imeis[(item_id, imei)] = number
            counted_imeis[key].add(imei)
            continue
        if imei:
            errors.append((number, f"{item_sku} is not serialised: no IMEI expected"))
            continue
        if not quantity_text.isdigit():
            errors.append((number, f"quantity {quantity_text!r} is not a whole number"))
            continue
        if key in counted_qty:
            errors.append((number, f"{site[1]} {item_sku} counted twice"))
            continue
        counted_qty[key] = int(quantity_text)
    if errors:
        raise StocktakeFileInvalid(errors)
    return counted_qty, counted_imeis, lines


def _adjust(session, enterprise_id, differences, site_by_code, item_by_sku, actor_user_id, reference):
    movement_ids: list[int] = []
    not_adjusted: list[str] = []
    for diff in differences:
        site = site_by_code[diff.site.upper()]
        item = item_by_sku[diff.sku.upper()]
        common = {"kind": "adjust", "item_id": item.id, "actor_user_id": actor_user_id,
                  "reference": reference}
        if not item.serialised:
            side = "to_site_id" if diff.delta > 0 else "from_site_id"
            movement_ids.append(movements.move(session, enterprise_id, quantity=abs(diff.delta),
                                               **{side: site.id}, **common))
            continue
        if diff.missing_imeis:
            movement_ids.append(movements.move(session, enterprise_id, from_site_id=site.id,
                                               imeis=diff.missing_imeis, **common))
        if diff.extra_imeis:
            known = imei_mod.known(session, enterprise_id, diff.extra_imeis)
            found = [i for i in diff.extra_imeis
                     if i not in known or (known[i].state == imei_mod.LOST and known[i].item_id == item.id)]
            not_adjusted.extend(sorted(set(diff.extra_imeis) - set(found)))
            if found:
                movement_ids.append(movements.move(session, enterprise_id, to_site_id=site.id,
                                                   imeis=found, **common))
    return movement_ids, not_adjusted


def _sites(session: Session, enterprise_id: int) -> dict[int, Site]:
    return {s.id: s for s in session.scalars(select(Site).where(Site.enterprise_id == enterprise_id))}


def _items(session: Session, enterprise_id: int) -> dict[int, Item]:
    return {i.id: i for i in session.scalars(select(Item).where(Item.enterprise_id == enterprise_id))}
