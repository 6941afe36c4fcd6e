"""Carrying out many approved orders at once: a dispatcher batch's final approvals each
book their receipt (commands.delivery). ``orders.fulfil`` one order at a time checks,
moves and updates each; here every order is checked first, their movements are made
together (erpcore.movement_batch) and the orders updated together: the rows, audit
entries and events of ``orders.fulfil`` for each in turn, in a handful of statements.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from erpcore import movement_batch, rbac
from erpcore.audit import Trail
from erpcore.orders import (
    MODULE, MOVEMENT_KIND, Order, apply, check_transition, get_orders, require_open, transition,
    user_in_tenant, utcnow,
)


@dataclass(frozen=True)
class Request:
    """An approved order (loaded, of this enterprise) and who books its receipt."""

    enterprise_id: int
    order: Order
    actor_user_id: int


def fulfil_across(
    session: Session, requests: Sequence[Request], now: Callable[[], datetime] = utcnow,
    trails: dict[int, Trail] | None = None,
) -> list[dict[tuple[int, int], int]]:
    """Fulfil every order, all or none (any refusal raises before the first write); for
    each, the quantity after its moves by (item id, site id), as ``orders.fulfil``'s
    ``levels``. ``trails``: the callers' by enterprise id (else written here)."""
    specs, owners = [], []
    for index, request in enumerate(requests):
        require_open(session, request.enterprise_id, MODULE)
        order = get_orders(session, request.enterprise_id, [request.order])[0]
        actor = user_in_tenant(session, request.enterprise_id, request.actor_user_id)
        rbac.require(session, actor, "stock.move")
        check_transition(order, "fulfilled")
        for line in order.lines:
            specs.append(movement_batch.Spec(
                request.enterprise_id, MOVEMENT_KIND[order.kind], line.item_id, line.quantity,
                order.from_site_id, order.to_site_id, actor.id, f"order:{order.number}"))
            owners.append(index)
    own_trails = trails is None
    trails = {} if trails is None else trails
    moved = movement_batch.make_many(session, specs, trails)
    levels: list[dict[tuple[int, int], int]] = [{} for _request in requests]
    for index, movement in zip(owners, moved):
        levels[index].update({(movement.item_id, site_id): q for site_id, q in movement.after.items()})
    at = now()
    changes = []
    for request in requests:
        order = request.order
        on_time = None if order.due_date is None else at.date() <= order.due_date
        trail = trails.get(request.enterprise_id)
        if trail is None:
            trail = trails[request.enterprise_id] = Trail(session, request.enterprise_id)
        changes.append((order, transition(order, "fulfilled", request.actor_user_id, "order.fulfil", trail,
                                          fulfilled_at=at, on_time=on_time)))
    apply(session, changes)
    if own_trails:
        for trail in trails.values():
            trail.write()
    return levels
