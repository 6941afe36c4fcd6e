"""Stock movements: the only way stock levels change, so that they always balance.

A movement is one document for one item: receive (from a supplier into ``to_site``), ship
(a sale out of ``from_site``), transfer (``from_site`` → ``to_site``), return (a sold
handset or goods coming back into ``to_site``) and adjust (a stocktake correction: gains
into ``to_site`` or losses out of ``from_site``). Quantities are always positive; the
sites say the direction. Serialised items move by IMEI list (quantity = number of IMEIs).

Everything is checked before anything is written, so a refused movement changes nothing;
StockChanged is published per (item, site) touched after the new levels are flushed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    DateTime, ForeignKey, Integer, String, UniqueConstraint, bindparam, func, insert, select, update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from erpcore import audit, events, imei as imei_mod
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel

KINDS = ("receive", "ship", "transfer", "return", "adjust")
NUMBER_PREFIX = "MV"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


clock: Callable[[], datetime] = _utcnow


class InvalidMovement(InvalidInput):
    code = "movement.invalid"


class MovementNotFound(NotFound):
    code = "movement.not_found"


class InsufficientStock(Conflict):
    code = "stock.insufficient"

    def __init__(self, item_id: int, site_id: int, available: int, requested: int):
        super().__init__(f"only {available} of item {item_id} at site {site_id}, {requested} asked",
                         item_id=item_id, site_id=site_id, available=available, requested=requested)
        self.available = available
        self.requested = requested


class Movement(Base):
    __tablename__ = "movements"
    __table_args__ = (UniqueConstraint("enterprise_id", "number"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    # MV00000042: derived from the id, set in the same flush.
    number: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    from_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    reference: Mapped[str | None] = mapped_column(String(64))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"<Movement {self.number} {self.kind} item={self.item_id} x{self.quantity}>"


def _check_sites(kind: str, from_site_id: int | None, to_site_id: int | None) -> None:
    need = {
        "receive": (False, True), "ship": (True, False), "transfer": (True, True),
        "return": (False, True),
    }
    if kind == "adjust":
        if (from_site_id is None) == (to_site_id is None):
            raise InvalidMovement("an adjustment names one site: to_site for gains, from_site for losses",
                                  kind=kind)
        return
    want_from, want_to = need[kind]
    if (from_site_id is not None) != want_from or (to_site_id is not None) != want_to:
        raise InvalidMovement(
            f"a {kind} needs {'from_site ' if want_from else ''}{'to_site' if want_to else ''}".strip(),
            kind=kind, from_site_id=from_site_id, to_site_id=to_site_id)
    if kind == "transfer" and from_site_id == to_site_id:
        raise InvalidMovement("a transfer needs two different sites", kind=kind)


def check(session: Session, enterprise_id: int, kind: str, item_id: int, quantity, from_site_id: int | None,
          to_site_id: int | None, reference: str | None, imeis: Sequence[str] = ()) -> Item:
    """The movement's item, after every check that refuses a movement before it is made
    (its IMEIs' own checks aside): ``make_movement`` and erpcore.movement_batch."""
    if kind not in KINDS:
        raise InvalidMovement(f"unknown movement kind {kind!r}", kind=kind, allowed=KINDS)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidMovement("the quantity must be a whole number above zero", quantity=quantity)
    if imeis and quantity != len(imeis):
        raise InvalidMovement(f"quantity {quantity} but {len(imeis)} IMEIs", quantity=quantity,
                              imei_count=len(imeis))
    if reference is not None and len(reference) > 64:
        raise InvalidMovement("a reference is at most 64 characters", reference=reference)
    _check_sites(kind, from_site_id, to_site_id)
    item = _tenant_item(session, enterprise_id, item_id)
    _check_tenant_sites(session, enterprise_id, [s for s in (from_site_id, to_site_id) if s is not None])
    if item.serialised and not imeis:
        raise InvalidMovement(f"item {item.sku} moves by IMEI", code="movement.imeis_required")
    if imeis and not item.serialised:
        raise InvalidMovement(f"item {item.sku} is not serialised", code="movement.imeis_unexpected")
    return item


def _tenant_item(session: Session, enterprise_id: int, item_id: int) -> Item:
    """The item if it is the enterprise's (from the session when already loaded)."""
    item = session.get(Item, item_id) if isinstance(item_id, int) and not isinstance(item_id, bool) else None
    if item is None or item.enterprise_id != enterprise_id:
        raise NotFound(f"no item {item_id}", code="movement.item_not_found", item_id=item_id)
    return item


def _check_tenant_sites(session: Session, enterprise_id: int, site_ids: Sequence[int]) -> None:
    """Every site is the enterprise's; sites the session holds already need no query."""
    found, unknown = set(), []
    for site_id in site_ids:
        site = session.identity_map.get(session.identity_key(Site, site_id))
        if site is not None and site.enterprise_id == enterprise_id:
            found.add(site_id)
        elif site is None:
            unknown.append(site_id)
    if unknown:
        found.update(session.scalars(select(Site.id).where(Site.enterprise_id == enterprise_id,
                                                           Site.id.in_(unknown))))
    missing = sorted(set(site_ids) - found)
    if missing:
        raise NotFound(f"no site {missing[0]}", code="movement.site_not_found", site_id=missing[0])


def _check_handsets(session: Session, enterprise_id: int, kind: str, item: Item,
                    imeis: list[str], from_site_id: int | None) -> tuple[list[str], list[str]]:
    """Validate the IMEIs for this movement; returns (new IMEIs, known IMEIs)."""
    gains = kind in ("receive", "return") or (kind == "adjust" and from_site_id is None)
    imeis = imei_mod.validate_document(imeis, item.tac if kind in ("receive", "adjust") and gains else None)
    known = imei_mod.known(session, enterprise_id, imeis)
    problems: list[tuple[str, str]] = []
    if kind == "receive":
        if known:
            raise imei_mod.DuplicateImei(list(known), "stock")
        return imeis, []
    if kind == "adjust" and gains:
        for handset in known.values():
            if handset.state != imei_mod.LOST:
                problems.append((handset.imei, f"already {handset.state}"))
            elif handset.item_id != item.id:
                problems.append((handset.imei, "another item"))
        if problems:
            raise imei_mod.ImeiUnavailable(problems)
        return [i for i in imeis if i not in known], list(known)
    missing = [i for i in imeis if i not in known]
    if missing:
        raise imei_mod.ImeiNotFound(missing)
    for handset in known.values():
        if handset.item_id != item.id:
            problems.append((handset.imei, "another item"))
        elif kind == "return":
            if handset.state != imei_mod.SOLD:
                problems.append((handset.imei, f"{handset.state}, not sold"))
        elif handset.state not in imei_mod.HELD_STATES:
            problems.append((handset.imei, handset.state))
        elif handset.site_id != from_site_id:
            problems.append((handset.imei, "not at this site"))
    if problems:
        raise imei_mod.ImeiUnavailable(problems)
    return [], imeis


@dataclass(frozen=True)
class Moved:
    """What one movement did: its id, and the item's quantity after it at each site it
    touched (a reply can tell the new stock without reading it back)."""

    id: int
    item_id: int
    after: dict[int, int]


def move(session: Session, enterprise_id: int, **movement) -> int:
    """Record one movement and apply it to stock levels (and handsets); its id. The
    keyword arguments are `make_movement`'s."""
    return make_movement(session, enterprise_id, **movement).id


def make_movement(
    session: Session,
    enterprise_id: int,
    *,
    kind: str,
    item_id: int,
    quantity: int | None = None,
    from_site_id: int | None = None,
    to_site_id: int | None = None,
    imeis: Sequence[str] = (),
    actor_user_id: int | None = None,
    reference: str | None = None,
    trail: audit.Trail | None = None,
) -> Moved:
    """``move``, telling what it did. ``trail``: the caller's audit trail takes the
    movement's entry (written with the caller's own); else it is written at once."""
    imeis = list(imeis)
    if imeis and quantity is None:
        quantity = len(imeis)
    item = check(session, enterprise_id, kind, item_id, quantity, from_site_id, to_site_id, reference, imeis)
    new_imeis: list[str] = []
    known_imeis: list[str] = []
    if imeis:
        new_imeis, known_imeis = _check_handsets(session, enterprise_id, kind, item, imeis, from_site_id)

    deltas: dict[int, int] = {}
    if from_site_id is not None:
        deltas[from_site_id] = -quantity
    if to_site_id is not None:
        deltas[to_site_id] = quantity
    levels = _lock_levels(session, item.id, sorted(deltas))
    before = {site_id: (levels[site_id][1] if site_id in levels else 0) for site_id in deltas}
    for site_id, delta in deltas.items():
        if before[site_id] + delta < 0:
            raise InsufficientStock(item.id, site_id, before[site_id], -delta)

    # Core statements: the unit of work's bookkeeping for one row each cost more than the
    # statements themselves. The number is derived from the id, so it needs the INSERT's.
    movement_id = session.execute(_INSERT_MOVEMENT, {
        "enterprise_id": enterprise_id, "kind": kind, "item_id": item.id, "quantity": quantity,
        "from_site_id": from_site_id, "to_site_id": to_site_id, "reference": reference,
        "actor_user_id": actor_user_id, "created_at": clock(),
    }).inserted_primary_key[0]
    number = f"{NUMBER_PREFIX}{movement_id:08d}"
    session.execute(_SET_NUMBER, {"movement_id": movement_id, "movement_number": number})
    after = {site_id: before[site_id] + delta for site_id, delta in deltas.items()}
    for site_id, quantity_after in after.items():
        if site_id not in levels:
            session.execute(_INSERT_LEVEL, {"item_id": item.id, "site_id": site_id, "quantity": quantity_after})
            continue
        level_id = levels[site_id][0]
        session.execute(_SET_LEVEL, {"level_id": level_id, "level_quantity": quantity_after})
        loaded = session.identity_map.get(session.identity_key(StockLevel, level_id))
        if loaded is not None:  # a StockLevel the session holds: as the row is now
            set_committed_value(loaded, "quantity", quantity_after)
            session.expire(loaded, ["updated_at"])
    if imeis:
        _apply_handsets(session, enterprise_id, kind, item.id, movement_id, new_imeis, known_imeis,
                        from_site_id, to_site_id)
    own_trail = trail is None
    if own_trail:
        trail = audit.Trail(session, enterprise_id)
    trail.add(actor_user_id, f"movement.{kind}", "movement", movement_id, None, {
        "number": number, "kind": kind, "sku": item.sku, "quantity": quantity, "from_site_id": from_site_id,
        "to_site_id": to_site_id, "reference": reference, "imei_count": len(imeis),
    })
    if own_trail:
        trail.write()
    for site_id, delta in deltas.items():
        events.publish(session, events.StockChanged(enterprise_id, item.id, site_id, before[site_id],
                                                    after[site_id], movement_id))
    return Moved(movement_id, item.id, after)


# On the tables, not the mapped classes: plain Core statements, no ORM bulk machinery.
_MOVEMENTS, _LEVELS = Movement.__table__, StockLevel.__table__
_INSERT_MOVEMENT = insert(_MOVEMENTS)
_SET_NUMBER = update(_MOVEMENTS).where(_MOVEMENTS.c.id == bindparam("movement_id")).values(
    number=bindparam("movement_number"))
_INSERT_LEVEL = insert(_LEVELS)
_SET_LEVEL = update(_LEVELS).where(_LEVELS.c.id == bindparam("level_id")).values(
    quantity=bindparam("level_quantity"), updated_at=func.now())


def _lock_levels(session: Session, item_id: int, site_ids: list[int]) -> dict[int, tuple[int, int]]:
    """The existing level rows as (id, quantity) by site, locked in site order (no
    deadlock between two movers); read from the database, not the session."""
    rows = session.execute(_LOCK_LEVELS, {"item_id": item_id, "site_ids": site_ids})
    return {site_id: (level_id, quantity) for level_id, site_id, quantity in rows}


_LOCK_LEVELS = select(StockLevel.id, StockLevel.site_id, StockLevel.quantity).where(
    StockLevel.item_id == bindparam("item_id"), StockLevel.site_id.in_(bindparam("site_ids", expanding=True))
).order_by(StockLevel.site_id).with_for_update()


_STATE_AFTER = {"receive": imei_mod.IN_STOCK, "ship": imei_mod.SOLD, "transfer": imei_mod.IN_STOCK,
                "return": imei_mod.RETURNED}


def _apply_handsets(session: Session, enterprise_id: int, kind: str, item_id: int, movement_id: int,
                    new_imeis: list[str], known_imeis: list[str], from_site_id: int | None,
                    to_site_id: int | None) -> None:
    if new_imeis:
        imei_mod.register(session, enterprise_id, item_id=item_id, site_id=to_site_id,
                          imeis=new_imeis, movement_id=movement_id)
    if known_imeis:
        if kind == "adjust":
            state = imei_mod.IN_STOCK if to_site_id is not None else imei_mod.LOST
        else:
            state = _STATE_AFTER[kind]
        imei_mod.relocate(session, enterprise_id, imeis=known_imeis, site_id=to_site_id,
                          state=state, movement_id=movement_id)
    imei_mod.log_movement(session, enterprise_id, movement_id, kind, from_site_id, to_site_id)


def get_movement(session: Session, enterprise_id: int, movement_id: int) -> Movement:
    movement = session.scalars(
        select(Movement).where(Movement.enterprise_id == enterprise_id, Movement.id == movement_id)
    ).first()
    if movement is None:
        raise MovementNotFound(f"no movement {movement_id}", movement_id=movement_id)
    return movement


def movement_imeis(session: Session, enterprise_id: int, movement_id: int) -> list[str]:
    """The IMEIs a movement carried (from the handsets' history)."""
    get_movement(session, enterprise_id, movement_id)
    h, e = imei_mod.Handset, imei_mod.HandsetEvent
    return list(session.scalars(
        select(h.imei).join(e, e.handset_id == h.id)
        .where(e.enterprise_id == enterprise_id, e.movement_id == movement_id).order_by(h.imei)))
