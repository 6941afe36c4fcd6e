"""IMEI-serialised handsets: where each one is, in which state, and how it got there.

Seed 004's handset business counts phones one by one: every handset is received, moved,
sold and returned by its IMEI. Receipts carry tens of thousands of IMEIs, so everything
here is set-based: validation in Python over the whole list, one query for the IMEIs
already known, executemany inserts, and history rows written by INSERT ... SELECT.
Stock levels are kept by erpcore.movements; this module owns the handsets themselves.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    DateTime, ForeignKey, Index, String, UniqueConstraint, insert, literal, select, update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound

IMEI_LENGTH = 15
TAC_LENGTH = 8

IN_STOCK = "in_stock"
SOLD = "sold"
RETURNED = "returned"
IN_TRANSIT = "in_transit"
REPAIR = "repair"
LOST = "lost"  # written off by a stocktake adjustment; found again by another
STATES = (IN_STOCK, SOLD, RETURNED, IN_TRANSIT, REPAIR, LOST)
#: States in which a handset counts in the stock level of the site it is at.
HELD_STATES = (IN_STOCK, RETURNED, REPAIR)

#: How many IMEIs go in one IN (...) list: below SQLite's 32766 host parameters, so a
#: 20,000-IMEI document is checked by one query on either backend.
IN_CHUNK = 30000
#: How many reasons an InvalidImei carries at most (the first ones, in document order).
MAX_REPORTED = 100


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


#: Replaced in tests that pin timestamps.
clock: Callable[[], datetime] = _utcnow


class InvalidImei(InvalidInput):
    """An IMEI that cannot be right: ``reason`` is not_15_digits, bad_check_digit or
    tac_mismatch; ``invalid`` lists (imei, reason) for a whole document."""

    code = "imei.invalid"

    def __init__(self, imei: str, reason: str, invalid: Sequence[tuple[str, str]] = ()):
        invalid = list(invalid) or [(imei, reason)]
        super().__init__(f"invalid IMEI {imei!r}: {reason}"
                         + (f" (and {len(invalid) - 1} more)" if len(invalid) > 1 else ""),
                         imei=imei, reason=reason, invalid=invalid[:MAX_REPORTED])
        self.imei = imei
        self.reason = reason


class DuplicateImei(Conflict):
    """IMEIs listed twice in a document (where="document") or already known (where="stock")."""

    code = "imei.duplicate"

    def __init__(self, imeis: Sequence[str], where: str):
        imeis = sorted(imeis)
        super().__init__(f"{len(imeis)} duplicate IMEI(s) in {where}: {', '.join(imeis[:5])}",
                         imeis=imeis[:MAX_REPORTED], where=where, count=len(imeis))
        self.imeis = imeis
        self.where = where


class ImeiNotFound(NotFound):
    code = "imei.not_found"

    def __init__(self, imeis: Sequence[str]):
        imeis = sorted(imeis)
        super().__init__(f"unknown IMEI(s): {', '.join(imeis[:5])}", imeis=imeis[:MAX_REPORTED],
                         count=len(imeis))
        self.imeis = imeis


class ImeiUnavailable(Conflict):
    """Known handsets that cannot take part in this movement (wrong item, wrong site or
    wrong state); ``problems`` lists (imei, why)."""

    code = "imei.unavailable"

    def __init__(self, problems: Sequence[tuple[str, str]]):
        problems = sorted(problems)
        super().__init__(f"{len(problems)} handset(s) cannot move: "
                         + ", ".join(f"{i} ({why})" for i, why in problems[:5]),
                         problems=problems[:MAX_REPORTED], count=len(problems))
        self.problems = problems


class Handset(Base):
    __tablename__ = "handsets"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "imei"),
        Index("ix_handsets_site_id_item_id", "site_id", "item_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    imei: Mapped[str] = mapped_column(String(IMEI_LENGTH))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    # Where it is now (for a sold handset: the site that sold it).
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    state: Mapped[str] = mapped_column(String(16))
    # The movement that last touched it: lets history rows be written set-based.
    last_movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class HandsetEvent(Base):
    __tablename__ = "handset_events"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    handset_id: Mapped[int] = mapped_column(ForeignKey("handsets.id"), index=True)
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime)


# --- validation -------------------------------------------------------------------------

_DOUBLED = {str(d): (2 * d if d < 5 else 2 * d - 9) for d in range(10)}


def luhn_check_digit(body: str) -> str:
    """The Luhn check digit of the first 14 digits of an IMEI: every second digit from
    the right (indices 1, 3, ... 13) is doubled, digits of the product summed."""
    total = sum(map(int, body[0::2])) + sum(_DOUBLED[char] for char in body[1::2])
    return str(-total % 10)


def imei_problem(imei: str, tac: str | None = None) -> str | None:
    """Why ``imei`` is not a valid IMEI (of an item with this TAC), or None when it is."""
    if len(imei) != IMEI_LENGTH or not imei.isascii() or not imei.isdigit():
        return "not_15_digits"
    if luhn_check_digit(imei[:14]) != imei[14]:
        return "bad_check_digit"
    if tac and imei[:TAC_LENGTH] != tac:
        return "tac_mismatch"
    return None


def validate_imei(value: str, tac: str | None = None) -> str:
    """The IMEI stripped of surrounding blanks; InvalidImei with the reason otherwise."""
    imei = str(value).strip()
    problem = imei_problem(imei, tac)
    if problem is not None:
        raise InvalidImei(imei, problem)
    return imei


def validate_document(values: Iterable[str], tac: str | None = None) -> list[str]:
    """Every IMEI of one document checked at once: InvalidImei listing each bad one, or
    DuplicateImei(where="document") when one is listed twice. Order is kept."""
    imeis = [str(v).strip() for v in values]
    invalid = [(imei, why) for imei in imeis if (why := imei_problem(imei, tac)) is not None]
    if invalid:
        raise InvalidImei(invalid[0][0], invalid[0][1], invalid)
    if len(set(imeis)) != len(imeis):
        seen: set[str] = set()
        twice = {i for i in imeis if i in seen or seen.add(i)}
        raise DuplicateImei(twice, "document")
    return imeis


# --- set-based reads and writes (used by erpcore.movements) -------------------------------

@dataclass(frozen=True)
class Known:
    id: int
    imei: str
    item_id: int
    site_id: int | None
    state: str


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def known(session: Session, enterprise_id: int, imeis: Sequence[str]) -> dict[str, Known]:
    """The handsets of this tenant among ``imeis`` (one query per 30,000 IMEIs)."""
    t = Handset.__table__
    found: dict[str, Known] = {}
    for chunk in _chunks(list(imeis)):
        rows = session.execute(
            select(t.c.id, t.c.imei, t.c.item_id, t.c.site_id, t.c.state)
            .where(t.c.enterprise_id == enterprise_id, t.c.imei.in_(chunk))
        )
        for row in rows:
            found[row.imei] = Known(row.id, row.imei, row.item_id, row.site_id, row.state)
    return found


def register(session: Session, enterprise_id: int, *, item_id: int, site_id: int,
             imeis: Sequence[str], movement_id: int) -> None:
    """Insert new handsets (state in_stock at ``site_id``); log_movement writes history."""
    now = clock()
    rows = [{"enterprise_id": enterprise_id, "imei": imei, "item_id": item_id, "site_id": site_id,
             "state": IN_STOCK, "last_movement_id": movement_id, "updated_at": now} for imei in imeis]
    if rows:
        session.execute(insert(Handset.__table__), rows)


def relocate(session: Session, enterprise_id: int, *, imeis: Sequence[str], site_id: int | None,
             state: str, movement_id: int) -> None:
    """Move known handsets to ``site_id`` in ``state``; log_movement writes history."""
    now = clock()
    t = Handset.__table__
    values = {"state": state, "last_movement_id": movement_id, "updated_at": now}
    if site_id is not None:
        values["site_id"] = site_id
    for chunk in _chunks(list(imeis)):
        session.execute(
            update(t).where(t.c.enterprise_id == enterprise_id, t.c.imei.in_(chunk)).values(values)
        )


def log_movement(session: Session, enterprise_id: int, movement_id: int, kind: str,
                 from_site_id: int | None, to_site_id: int | None) -> None:
    """One history row per handset the movement touched, written by the database."""
    now = clock()
    h = Handset.__table__
    e = HandsetEvent.__table__
    source = select(
        h.c.enterprise_id, h.c.id, h.c.last_movement_id, literal(kind, String(16)),
        literal(from_site_id), literal(to_site_id), h.c.state, literal(now, DateTime),
    ).where(h.c.enterprise_id == enterprise_id, h.c.last_movement_id == movement_id)
    session.execute(insert(e).from_select(
        ["enterprise_id", "handset_id", "movement_id", "kind", "from_site_id", "to_site_id",
         "state", "at"], source))


def held_imeis(session: Session, enterprise_id: int, *, site_ids: Sequence[int] | None = None
               ) -> list[tuple[int, int, str]]:
    """(site_id, item_id, imei) of every handset counted in a site's stock."""
    t = Handset.__table__
    statement = select(t.c.site_id, t.c.item_id, t.c.imei).where(
        t.c.enterprise_id == enterprise_id, t.c.state.in_(HELD_STATES))
    if site_ids is not None:
        statement = statement.where(t.c.site_id.in_(list(site_ids)))
    return [tuple(row) for row in session.execute(statement.order_by(t.c.site_id, t.c.imei))]


# --- trace --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TraceStep:
    at: datetime
    kind: str
    movement_number: str | None
    from_site: str | None
    to_site: str | None
    state: str


@dataclass(frozen=True)
class Trace:
    """Where a handset is now and the story of how it got there, oldest step first."""

    imei: str
    sku: str
    site: str | None
    state: str
    history: tuple[TraceStep, ...]


def trace(session: Session, enterprise_id: int, imei: str) -> Trace:
    """The handset with this IMEI in this tenant; ImeiNotFound for any other tenant's."""
    from erpcore.items import Item
    from erpcore.movements import Movement
    from erpcore.sites import Site

    imei = str(imei).strip()
    handset = session.scalars(
        select(Handset).where(Handset.enterprise_id == enterprise_id, Handset.imei == imei)
    ).first()
    if handset is None:
        raise ImeiNotFound([imei])
    codes = dict(session.execute(select(Site.id, Site.code).where(Site.enterprise_id == enterprise_id)).all())
    sku = session.scalar(select(Item.sku).where(Item.id == handset.item_id))
    rows = session.execute(
        select(HandsetEvent, Movement.number)
        .outerjoin(Movement, Movement.id == HandsetEvent.movement_id)
        .where(HandsetEvent.enterprise_id == enterprise_id, HandsetEvent.handset_id == handset.id)
        .order_by(HandsetEvent.id)
    )
    steps = tuple(
        TraceStep(ev.at, ev.kind, number, codes.get(ev.from_site_id), codes.get(ev.to_site_id), ev.state)
        for ev, number in rows
    )
    return Trace(imei, sku, codes.get(handset.site_id), handset.state, steps)
