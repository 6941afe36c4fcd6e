"""Orders, their decisions, approval rules and approvers read ahead for a dispatcher batch.

Why: APPROVE, REJECT and STATUS each read the order they name, its lines, who already
decided on it and its enterprise's rules; ORDER reads the rules and who approves. A batch
reads these once for all its commands (`commands.prefetch`) and leaves them here, where
`orders.get_orders`, `approvals._decided_by`, `approvals._Rules` and `approvals.approvers`
look first. The rules of `erpcore.memo` hold: rows only as read, dropped (never patched)
by a write that changes them:

- an order is handed out once (`take_orders`): the command that takes it may change it,
  so a second command on the same order reads it again, as in a batch of its own;
- an order's decisions are dropped by the write of a new one (`forget_decisions`);
- rules are dropped by `approvals.set_rules`; approvers by a flush of users or roles.

This module imports orders and approvals only inside its functions (both import it).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, inspect, select, tuple_
from sqlalchemy.orm import Session, selectinload

from erpcore import memo

_ORDERS_MEMO = "merp.orders_by_number"
_DECISIONS_MEMO = "merp.decisions_by_order"
_APPROVERS_MEMO = "merp.approvers_by_role"
_CHUNK = 500
_statements: dict[str, object] = {}


def _statement(name: str):
    """The read-ahead statements, built once (their models import this module)."""
    if not _statements:
        from erpcore import rbac
        from erpcore.approvals import ApprovalRule, ApprovalStep
        from erpcore.orders import Order
        from erpcore.users import User

        _statements.update(
            orders=select(Order).where(
                tuple_(Order.enterprise_id, Order.number).in_(bindparam("pairs", expanding=True))
            ).options(selectinload(Order.lines)),
            decisions=select(ApprovalStep.order_id, ApprovalStep.decided_by_user_id).where(
                ApprovalStep.order_id.in_(bindparam("order_ids", expanding=True))),
            rules=select(ApprovalRule.enterprise_id, ApprovalRule.document_kind, ApprovalRule.level,
                         ApprovalRule.min_amount, ApprovalRule.role).where(
                ApprovalRule.enterprise_id.in_(bindparam("enterprise_ids", expanding=True))
            ).order_by(ApprovalRule.enterprise_id, ApprovalRule.document_kind, ApprovalRule.level),
            extra_roles=select(rbac.UserRole.enterprise_id, rbac.UserRole.user_id, rbac.UserRole.role).where(
                rbac.UserRole.enterprise_id.in_(bindparam("enterprise_ids", expanding=True)),
                rbac.UserRole.role.in_(bindparam("roles", expanding=True))),
            approvers=select(User).where(
                User.enterprise_id.in_(bindparam("enterprise_ids", expanding=True)), User.active.is_(True),
                User.role.in_(bindparam("roles", expanding=True))
                | User.id.in_(bindparam("extra_ids", expanding=True)),
            ).order_by(User.id),
        )
        _watch()
    return _statements[name]


def _watch() -> None:
    from erpcore import rbac
    from erpcore.users import User

    memo.forget_on_flush(User, _APPROVERS_MEMO)
    memo.forget_on_flush(rbac.UserRole, _APPROVERS_MEMO)


# -- orders --------------------------------------------------------------------------------

def remember_orders(session: Session, pairs: Iterable[tuple[int, str]]) -> list:
    """Load the orders with these (enterprise id, number) pairs, with their lines, in two
    queries and keep them for `take_orders`; returns the orders found."""
    kept = memo.memo(session, _ORDERS_MEMO)
    wanted = sorted({pair for pair in pairs if pair not in kept})
    found = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        for order in session.scalars(_statement("orders"), {"pairs": chunk}):
            kept[order.enterprise_id, order.number] = order
            found.append(order)
    return found


def take_orders(session: Session, enterprise_id: int, numbers: Sequence[str]) -> dict:
    """The read-ahead orders of this enterprise with these numbers, by number, each
    handed out once (the taker may change it)."""
    kept = memo.settled(session, _ORDERS_MEMO)
    if not kept:
        return {}
    taken = {}
    for number in numbers:
        order = kept.pop((enterprise_id, number), None)
        if (order is not None and inspect(order).persistent and order.enterprise_id == enterprise_id
                and order.number == number):
            taken[number] = order
    return taken


# -- who decided ---------------------------------------------------------------------------

def remember_decisions(session: Session, order_ids: Iterable[int]) -> None:
    """Read who already decided on these orders in one query, for `decisions_of`."""
    kept = memo.memo(session, _DECISIONS_MEMO)
    wanted = sorted({order_id for order_id in order_ids if order_id not in kept})
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found: dict[int, set[int]] = {order_id: set() for order_id in chunk}
        for order_id, user_id in session.execute(_statement("decisions"), {"order_ids": chunk}):
            found[order_id].add(user_id)
        for order_id, users in found.items():
            kept[order_id] = frozenset(users)


def decisions_of(session: Session, order_ids: Sequence[int]) -> dict[int, set[int]] | None:
    """Who decided on each order (fresh sets the caller may change), if every one was
    read ahead and not decided since; else None."""
    kept = memo.settled(session, _DECISIONS_MEMO)
    if not kept:
        return None
    held = {}
    for order_id in order_ids:
        users = kept.get(order_id)
        if users is None:
            return None
        held[order_id] = set(users)
    return held


def forget_decisions(session: Session, order_ids: Iterable[int]) -> None:
    """Call before writing a decision on these orders."""
    memo.forget(session, _DECISIONS_MEMO, list(order_ids))


# -- rules and approvers -------------------------------------------------------------------

def remember_rules(session: Session, enterprise_ids: Iterable[int]) -> None:
    """Read the approval rules of these enterprises in one query and keep them where
    `approvals._Rules` looks (an enterprise with none keeps none: that is what it read)."""
    from erpcore import approvals

    kept = memo.memo(session, approvals._RULES_MEMO)
    wanted = sorted({eid for eid in enterprise_ids if eid not in kept})
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        by_enterprise: dict[int, dict] = {eid: {} for eid in chunk}
        for eid, kind, level, amount, role in session.execute(_statement("rules"), {"enterprise_ids": chunk}):
            by_enterprise[eid].setdefault(kind, []).append(approvals._Level(level, amount, role))
        kept.update(by_enterprise)


def rule_roles(session: Session, enterprise_ids: Iterable[int]) -> set[str]:
    """The roles the read-ahead rules of these enterprises name."""
    from erpcore import approvals

    kept = memo.held(session, approvals._RULES_MEMO) or {}
    return {rule.role for eid in enterprise_ids for levels in kept.get(eid, {}).values() for rule in levels}


def remember_approvers(session: Session, enterprise_ids: Iterable[int], roles: Iterable[str]) -> None:
    """Read the active users holding each of ``roles`` (primary or extra) in these
    enterprises in two queries and keep them by (enterprise, role), as the query of
    `approvals.approvers` finds them."""
    enterprise_ids, roles = sorted(set(enterprise_ids)), sorted(set(roles))
    if not enterprise_ids or not roles:
        return
    extras = set(session.execute(_statement("extra_roles"), {"enterprise_ids": enterprise_ids, "roles": roles}))
    users = list(session.scalars(_statement("approvers"), {
        "enterprise_ids": enterprise_ids, "roles": roles,
        "extra_ids": sorted({user_id for _eid, user_id, _role in extras}),
    }))
    by_enterprise: dict[int, list] = {eid: [] for eid in enterprise_ids}
    for user in users:  # in id order, as read
        members = by_enterprise.get(user.enterprise_id)
        if members is not None:
            members.append(user)
    kept = memo.memo(session, _APPROVERS_MEMO)
    for eid, members in by_enterprise.items():
        for role in roles:
            kept[eid, role] = tuple(u for u in members if u.role == role or (eid, u.id, role) in extras)


def approvers_of(session: Session, enterprise_id: int, role: str) -> tuple | None:
    """The read-ahead approvers for (enterprise, role), ordered by id; None if not read."""
    kept = memo.settled(session, _APPROVERS_MEMO)
    if not kept:
        return None
    return kept.get((enterprise_id, role))
