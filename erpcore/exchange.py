"""Operator import and export (CSV or JSON) of enterprises, users, items and stock levels.

Rows are matched by natural keys (enterprise code; enterprise + username; enterprise +
SKU; enterprise + site + SKU), so importing the same file twice changes nothing the
second time. A file is checked completely before anything is written: one bad row and
the whole file is refused with the line number of every error. Stock is set through
adjust movements so levels stay balanced and audited; passwords never leave the system.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from erpcore import audit, movements, rbac
from erpcore.errors import InvalidInput, NotFound
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.tenants import LANGUAGES, Enterprise
from erpcore.users import InvalidMsisdn, User, normalize_msisdn

FIELDS = {
    "enterprises": ("code", "name", "name_en", "extension", "lang", "active"),
    "users": ("enterprise", "username", "display_name", "msisdn", "lang", "role", "site", "active",
              "push_capable"),
    "items": ("enterprise", "sku", "name", "name_en", "brand", "model", "tac", "unit_price", "serialised"),
    "stock": ("enterprise", "site", "sku", "quantity"),
}
KINDS = tuple(FIELDS)
FORMATS = ("csv", "json")
MAX_ERRORS = 200
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}


class ExchangeFileInvalid(InvalidInput):
    """``errors`` lists (line, message); line is the CSV line or the JSON record number."""

    code = "exchange.invalid_file"

    def __init__(self, errors: list[tuple[int, str]]):
        head = "; ".join(f"line {n}: {m}" for n, m in errors[:3])
        super().__init__(f"{len(errors)} bad row(s): {head}", errors=errors[:MAX_ERRORS], count=len(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


# --- reading and writing files ------------------------------------------------------------

def write(rows: list[dict], kind: str, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    writer = csv.DictWriter(out, FIELDS[kind], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else int(v) if isinstance(v, bool) else v) for k, v in row.items()})


def read(text: str, kind: str, fmt: str) -> list[tuple[int, dict]]:
    """(line, row) pairs with every value a stripped string (None for a missing value)."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ExchangeFileInvalid([(getattr(exc, "lineno", 1), f"not JSON: {exc}")]) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ExchangeFileInvalid([(1, "a JSON file holds a list of objects")])
        return [(n, {k: _text(v) for k, v in r.items()}) for n, r in enumerate(data, start=1)]
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    unknown = [h for h in header if h not in FIELDS[kind]]
    if not header or unknown:
        raise ExchangeFileInvalid([(1, f"header must name columns of {', '.join(FIELDS[kind])}"
                                        + (f"; unknown: {', '.join(unknown)}" if unknown else ""))])
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        rows.append((number, {h: (cells[i].strip() if i < len(cells) else None) for i, h in enumerate(header)}))
    return rows


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


# --- export ---------------------------------------------------------------------------------

def export_rows(session: Session, kind: str, enterprise_code: str | None = None) -> list[dict]:
    """Every row of ``kind`` (of one enterprise when its code is given), in key order."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}", code="exchange.unknown_kind", allowed=KINDS)
    enterprises = _enterprises(session, enterprise_code)
    codes = {e.id: e.code for e in enterprises}
    ids = list(codes)
    if kind == "enterprises":
        return [{"code": e.code, "name": e.name, "name_en": e.name_en, "extension": e.extension,
                 "lang": e.lang, "active": bool(e.active)} for e in sorted(enterprises, key=lambda e: e.code)]
    if kind == "users":
        sites = _site_codes(session, ids)
        users = session.scalars(select(User).where(User.enterprise_id.in_(ids)))
        return sorted(({"enterprise": codes[u.enterprise_id], "username": u.username,
                        "display_name": u.display_name, "msisdn": u.msisdn, "lang": u.lang,
                        "role": u.role, "site": sites.get(u.site_id), "active": bool(u.active),
                        "push_capable": bool(u.push_capable)}
                       for u in users), key=lambda r: (r["enterprise"], r["username"]))
    if kind == "items":
        items = session.scalars(select(Item).where(Item.enterprise_id.in_(ids)))
        return sorted(({"enterprise": codes[i.enterprise_id], "sku": i.sku, "name": i.name,
                        "name_en": i.name_en, "brand": i.brand, "model": i.model, "tac": i.tac,
                        "unit_price": str(i.unit_price), "serialised": bool(i.serialised)}
                       for i in items), key=lambda r: (r["enterprise"], r["sku"]))
    rows = session.execute(
        select(Item.enterprise_id, Site.code, Item.sku, StockLevel.quantity)
        .join(Item, Item.id == StockLevel.item_id).join(Site, Site.id == StockLevel.site_id)
        .where(Item.enterprise_id.in_(ids), Site.enterprise_id == Item.enterprise_id))
    return sorted(({"enterprise": codes[e], "site": s, "sku": k, "quantity": q} for e, s, k, q in rows),
                  key=lambda r: (r["enterprise"], r["site"], r["sku"]))


def _enterprises(session: Session, code: str | None) -> list[Enterprise]:
    statement = select(Enterprise)
    if code is not None:
        statement = statement.where(Enterprise.code == code)
    found = list(session.scalars(statement))
    if code is not None and not found:
        raise NotFound(f"no enterprise {code!r}", code="exchange.enterprise_not_found", enterprise=code)
    return found


def _site_codes(session: Session, enterprise_ids: list[int]) -> dict[int, str]:
    return dict(session.execute(select(Site.id, Site.code).where(Site.enterprise_id.in_(enterprise_ids))).all())


# --- import ---------------------------------------------------------------------------------

def import_rows(session: Session, kind: str, rows: list[tuple[int, dict]],
                enterprise_code: str | None = None, actor_user_id: int | None = None) -> ImportResult:
    """Upsert the rows by natural key after checking them all; ExchangeFileInvalid (and
    nothing written) when any is bad. ``enterprise_code`` confines the file to one tenant."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}", code="exchange.unknown_kind", allowed=KINDS)
    if enterprise_code is not None:
        _enterprises(session, enterprise_code)
    checker = _Checker(session, enterprise_code)
    plans = []
    for line, row in rows:
        try:
            plans.append(getattr(checker, kind)(row))
        except ValueError as exc:
            checker.errors.append((line, str(exc)))
        if len(checker.errors) >= MAX_ERRORS:
            break
    if checker.errors:
        raise ExchangeFileInvalid(checker.errors)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for apply in plans:
        counts[apply(actor_user_id)] += 1
    session.flush()
    return ImportResult(**counts)


class _Checker:
    """Validates one row at a time against the database and the rows before it; each
    method returns a closure that applies the row (returning created/updated/unchanged)."""

    def __init__(self, session: Session, enterprise_code: str | None):
        self.session = session
        self.scope = enterprise_code
        self.errors: list[tuple[int, str]] = []
        self.by_code = {e.code: e for e in session.scalars(select(Enterprise))}
        self.seen: set[tuple] = set()

    # helpers
    def _key(self, *key) -> None:
        if key in self.seen:
            raise ValueError(f"{' '.join(map(str, key[1:]))} appears twice in the file")
        self.seen.add(key)

    def _enterprise(self, row: dict) -> Enterprise:
        code = row.get("enterprise") or self.scope
        if not code:
            raise ValueError("enterprise is missing")
        if self.scope is not None and code != self.scope:
            raise ValueError(f"enterprise {code!r} is outside --enterprise {self.scope}")
        enterprise = self.by_code.get(code)
        if enterprise is None:
            raise ValueError(f"unknown enterprise {code!r}")
        return enterprise

    def _site(self, enterprise: Enterprise, code: str | None) -> Site | None:
        if not code:
            return None
        site = self.session.scalars(select(Site).where(Site.enterprise_id == enterprise.id, Site.code == code)).first()
        if site is None:
            raise ValueError(f"unknown site {code!r} in {enterprise.code}")
        return site

    def _apply(self, entity: str, enterprise_id_of, found, make, values: dict):
        def apply(actor_user_id):
            obj = found
            if obj is None:
                obj = make()
                self.session.add(obj)
                self.session.flush()
                audit.record(self.session, enterprise_id_of(obj), actor_user_id, f"{entity}.import", entity,
                             obj.id, None, _plain(values))
                return "created"
            before = {k: getattr(obj, k) for k in values}
            if before == values:
                return "unchanged"
            for k, v in values.items():
                setattr(obj, k, v)
            self.session.flush()
            audit.record(self.session, enterprise_id_of(obj), actor_user_id, f"{entity}.import", entity,
                         obj.id, _plain(before), _plain(values))
            return "updated"
        return apply

    # one method per kind
    def enterprises(self, row: dict):
        code = _required(row, "code", 32)
        if self.scope is not None and code != self.scope:
            raise ValueError(f"enterprise {code!r} is outside --enterprise {self.scope}")
        self._key("enterprise", code)
        extension = _required(row, "extension", 8)
        if not extension.isdigit():
            raise ValueError(f"extension {extension!r} must be digits")
        for other in self.by_code.values():
            if other.extension == extension and other.code != code:
                raise ValueError(f"extension {extension} belongs to {other.code}")
        self._key("extension", extension)
        values = {"name": _required(row, "name", 128), "name_en": _optional(row, "name_en", 128),
                  "extension": extension, "lang": _choice(row, "lang", LANGUAGES, "zh"),
                  "active": _bool(row, "active", True)}
        found = self.by_code.get(code)
        return self._apply("enterprise", lambda e: e.id, found, lambda: Enterprise(code=code, **values), values)

    def users(self, row: dict):
        enterprise = self._enterprise(row)
        username = _required(row, "username", 64)
        self._key("user", enterprise.code, username)
        msisdn = row.get("msisdn") or None
        if msisdn:
            try:
                msisdn = normalize_msisdn(msisdn)
            except InvalidMsisdn as exc:
                raise ValueError(str(exc)) from None
            holder = self.session.scalar(select(User.username).where(
                User.enterprise_id == enterprise.id, User.msisdn == msisdn))
            if holder is not None and holder != username:
                raise ValueError(f"MSISDN {msisdn} belongs to {holder}")
            self._key("msisdn", enterprise.code, msisdn)
        site = self._site(enterprise, row.get("site"))
        values = {"display_name": _required(row, "display_name", 128), "msisdn": msisdn,
                  "lang": _choice(row, "lang", LANGUAGES, None),
                  "role": _choice(row, "role", rbac.ROLES, "clerk"),
                  "site_id": site.id if site else None, "active": _bool(row, "active", True)}
        found = self.session.scalars(select(User).where(
            User.enterprise_id == enterprise.id, User.username == username)).first()
        # push_capable: no (false) when not given, except that a file without the column
        # leaves an existing user's flag alone (an older export must not switch pushes off).
        if "push_capable" in row or found is None:
            values["push_capable"] = _bool(row, "push_capable", False)
        return self._apply("user", lambda u: u.enterprise_id, found,
                           lambda: User(enterprise_id=enterprise.id, username=username, **values), values)

    def items(self, row: dict):
        enterprise = self._enterprise(row)
        sku = _required(row, "sku", 32)
        self._key("item", enterprise.code, sku)
        tac = row.get("tac") or None
        if tac is not None and not (len(tac) == 8 and tac.isdigit()):
            raise ValueError(f"TAC {tac!r} must be 8 digits")
        try:
            price = Decimal(row.get("unit_price") or "0").quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ValueError(f"unit_price {row.get('unit_price')!r} is not a number") from None
        if price < 0 or price >= Decimal("1e10"):
            raise ValueError(f"unit_price {price} is out of range")
        values = {"name": _required(row, "name", 128), "name_en": _optional(row, "name_en", 128),
                  "brand": _optional(row, "brand", 64), "model": _optional(row, "model", 64), "tac": tac,
                  "unit_price": price, "serialised": _bool(row, "serialised", False)}
        found = self.session.scalars(select(Item).where(Item.enterprise_id == enterprise.id, Item.sku == sku)).first()
        return self._apply("item", lambda i: i.enterprise_id, found,
                           lambda: Item(enterprise_id=enterprise.id, sku=sku, **values), values)

    def stock(self, row: dict):
        enterprise = self._enterprise(row)
        site = self._site(enterprise, _required(row, "site", 32))
        sku = _required(row, "sku", 32)
        item = self.session.scalars(select(Item).where(Item.enterprise_id == enterprise.id, Item.sku == sku)).first()
        if item is None:
            raise ValueError(f"unknown sku {sku!r} in {enterprise.code}")
        if item.serialised:
            raise ValueError(f"{sku} is counted by IMEI: use the stocktake import")
        self._key("stock", enterprise.code, site.code, sku)
        text = row.get("quantity") or ""
        if not text.isdigit():
            raise ValueError(f"quantity {text!r} is not a whole number")
        wanted = int(text)
        session = self.session

        def apply(actor_user_id):
            have = session.scalar(select(StockLevel.quantity).where(
                StockLevel.item_id == item.id, StockLevel.site_id == site.id))
            delta = wanted - int(have or 0)
            if delta == 0:
                return "unchanged"
            side = "to_site_id" if delta > 0 else "from_site_id"
            movements.move(session, enterprise.id, kind="adjust", item_id=item.id, quantity=abs(delta),
                           actor_user_id=actor_user_id, reference="admin import", **{side: site.id})
            return "created" if have is None else "updated"
        return apply


def _required(row: dict, name: str, size: int) -> str:
    value = row.get(name) or ""
    if not value:
        raise ValueError(f"{name} is missing")
    if len(value) > size:
        raise ValueError(f"{name} is longer than {size} characters")
    return value


def _optional(row: dict, name: str, size: int) -> str | None:
    value = row.get(name) or None
    if value is not None and len(value) > size:
        raise ValueError(f"{name} is longer than {size} characters")
    return value


def _choice(row: dict, name: str, allowed, default):
    value = row.get(name) or None
    if value is None:
        return default
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value


def _bool(row: dict, name: str, default: bool) -> bool:
    value = row.get(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False if lowered else default
    raise ValueError(f"{name} {value!r} is not yes/no")


def _plain(values: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}
