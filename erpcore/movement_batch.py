"""Many stock movements at once, for a dispatcher batch's receipts (erpcore.fulfilment):
``movements.make_movement`` costs four or five statements a movement; here every
movement is checked first, then one locking read takes every level they touch, one
INSERT writes the movements, one UPDATE their numbers, one UPDATE the levels (one INSERT
the levels that did not exist). The rows, audit entries and events are those of
``make_movement`` called for each in turn. Serialised items move by IMEI, one at a time
(``make_movement``): they are refused here, before anything is written.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from erpcore import audit, events, stock
from erpcore.keyed_update import KeyedUpdate
from erpcore.movements import NUMBER_PREFIX, InsufficientStock, Moved, Movement, check, clock
from erpcore.stock import StockLevel


@dataclass(frozen=True)
class Spec:
    """One movement to make (``make_movement``'s arguments, without IMEIs)."""

    enterprise_id: int
    kind: str
    item_id: int
    quantity: int
    from_site_id: int | None = None
    to_site_id: int | None = None
    actor_user_id: int | None = None
    reference: str | None = None

    def deltas(self) -> dict[int, int]:
        held = {}
        if self.from_site_id is not None:
            held[self.from_site_id] = -self.quantity
        if self.to_site_id is not None:
            held[self.to_site_id] = self.quantity
        return held


def make_many(session: Session, specs: list[Spec], trails: dict[int, audit.Trail]) -> list[Moved]:
    """Make every movement, all or none: any refusal raises before the first write.
    ``trails`` (by enterprise id, created when missing) take the movements' audit entries."""
    items = [_checked(session, spec) for spec in specs]
    if not specs:
        return []
    pairs = sorted({(spec.item_id, site_id) for spec in specs for site_id in spec.deltas()})
    levels = {(item_id, site_id): (level_id, quantity)
              for level_id, item_id, site_id, quantity in session.execute(_LOCK_LEVELS, {"pairs": pairs})}
    current = {pair: held[1] for pair, held in levels.items()}
    befores, afters = [], []
    for spec in specs:
        deltas = spec.deltas()
        before = {site_id: current.get((spec.item_id, site_id), 0) for site_id in deltas}
        for site_id, delta in deltas.items():
            if before[site_id] + delta < 0:
                raise InsufficientStock(spec.item_id, site_id, before[site_id], -delta)
        after = {site_id: before[site_id] + delta for site_id, delta in deltas.items()}
        current.update({(spec.item_id, site_id): quantity for site_id, quantity in after.items()})
        befores.append(before)
        afters.append(after)

    at = clock()
    ids = list(session.scalars(_INSERT_MOVEMENTS, [{
        "enterprise_id": spec.enterprise_id, "kind": spec.kind, "item_id": spec.item_id,
        "quantity": spec.quantity, "from_site_id": spec.from_site_id, "to_site_id": spec.to_site_id,
        "reference": spec.reference, "actor_user_id": spec.actor_user_id, "created_at": at,
    } for spec in specs]))
    numbers = {movement_id: f"{NUMBER_PREFIX}{movement_id:08d}" for movement_id in ids}
    for statement, params in _NUMBER_BY_ID.statements(numbers):
        session.execute(statement, params)
    _write_levels(session, levels, current, pairs)

    moved = []
    for spec, item, movement_id, before, after in zip(specs, items, ids, befores, afters):
        trail = trails.get(spec.enterprise_id)
        if trail is None:
            trail = trails[spec.enterprise_id] = audit.Trail(session, spec.enterprise_id)
        trail.add(spec.actor_user_id, f"movement.{spec.kind}", "movement", movement_id, None, {
            "number": numbers[movement_id], "kind": spec.kind, "sku": item.sku, "quantity": spec.quantity,
            "from_site_id": spec.from_site_id, "to_site_id": spec.to_site_id, "reference": spec.reference,
            "imei_count": 0,
        })
        for site_id in spec.deltas():
            events.publish(session, events.StockChanged(spec.enterprise_id, spec.item_id, site_id,
                                                        before[site_id], after[site_id], movement_id))
        moved.append(Moved(movement_id, spec.item_id, after))
    return moved


def _checked(session: Session, spec: Spec):
    """The spec's item, after the checks ``make_movement`` makes (no IMEIs here: a
    serialised item is refused)."""
    return check(session, spec.enterprise_id, spec.kind, spec.item_id, spec.quantity, spec.from_site_id,
                 spec.to_site_id, spec.reference)


def _write_levels(session: Session, levels: dict, current: dict, pairs: list[tuple[int, int]]) -> None:
    """The levels as the movements left them: one UPDATE of those that exist, one INSERT
    of the others; loaded StockLevel objects are set to match, read-ahead ones forgotten."""
    changed = {levels[pair][0]: current[pair] for pair in pairs if pair in levels}
    for statement, params in _QUANTITY_BY_ID.statements(changed):
        session.execute(statement, params)
    new = [{"item_id": item_id, "site_id": site_id, "quantity": current[item_id, site_id]}
           for item_id, site_id in pairs if (item_id, site_id) not in levels]
    if new:
        session.execute(insert(_LEVELS), new)
    for level_id, quantity in changed.items():
        loaded = session.identity_map.get(session.identity_key(StockLevel, level_id))
        if loaded is not None:
            set_committed_value(loaded, "quantity", quantity)
            session.expire(loaded, ["updated_at"])
    for item_id, site_id in pairs:  # read-ahead quantities (commands.prefetch) are stale now
        stock.invalidate_levels(session, item_id, [site_id])


_MOVEMENTS, _LEVELS = Movement.__table__, StockLevel.__table__
_INSERT_MOVEMENTS = insert(_MOVEMENTS).returning(_MOVEMENTS.c.id, sort_by_parameter_order=True)
_NUMBER_BY_ID = KeyedUpdate(_MOVEMENTS.c.id, lambda number: update(_MOVEMENTS).values(number=number))
_QUANTITY_BY_ID = KeyedUpdate(_LEVELS.c.id, lambda quantity: update(_LEVELS).values(
    quantity=quantity, updated_at=func.now()))
# In (item, site) order: two batches take the rows they share in the same order.
_LOCK_LEVELS = select(StockLevel.id, StockLevel.item_id, StockLevel.site_id, StockLevel.quantity).where(
    tuple_(StockLevel.item_id, StockLevel.site_id).in_(bindparam("pairs", expanding=True))
).order_by(StockLevel.item_id, StockLevel.site_id).with_for_update()
