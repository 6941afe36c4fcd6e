"""Approval of orders: rules per document kind with amount thresholds, one role per level.

A submitted order needs every level whose threshold its total reaches, lowest level first
(the defaults: a purchase needs a manager, and from 10,000 a manager then finance). Nobody
approves their own order, nor two levels of the same order; a rejection needs a reason.
Every decision is an ``approval_steps`` row and an audit entry; the next level's eligible
approvers are told through ``ApprovalRequested``, the requester through ``DocumentDecided``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    DateTime, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, bindparam, delete, insert, select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from erpcore import audit, document_memo, events, rbac
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import InvalidInput, NotFound, PermissionDenied
from erpcore.orders import (
    KINDS, IllegalTransition, Order, Trail, apply, get_order, get_orders, require_open, transition,
    user_in_tenant, utcnow,
)
from erpcore.tenants import transaction_memo
from erpcore.users import User

MODULE = "approval"
# kind -> ((level, min_amount, role), ...)
DEFAULT_RULES: dict[str, tuple[tuple[int, str, str], ...]] = {
    "purchase": ((1, "0", "manager"), (2, "10000", "finance")),
    "sales": ((1, "10000", "manager"),),
    "return": ((1, "0", "manager"),),
    "transfer": (),
}
MAX_COMMENT = 500


class SelfApproval(PermissionDenied):
    code = "approval.self"


class NotApprover(PermissionDenied):
    code = "approval.not_approver"


class ReasonRequired(InvalidInput):
    code = "approval.reason_required"


class InvalidRule(InvalidInput):
    code = "approval.bad_rule"


class ApprovalRule(Base):
    __tablename__ = "approval_rules"
    __table_args__ = (UniqueConstraint("enterprise_id", "document_kind", "level"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    document_kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int]
    min_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    role: Mapped[str] = mapped_column(String(32))


class ApprovalStep(Base):
    """One decision on one level of one order."""

    __tablename__ = "approval_steps"
    __table_args__ = (Index("ix_approval_steps_order", "order_id", "level"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    level: Mapped[int]
    role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected
    decided_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime)


def set_rules(
    session: Session, enterprise_id: int, kind: str, levels: list[tuple[int, Decimal | str, str]],
    actor_user_id: int | None = None,
) -> list[ApprovalRule]:
    """Replace the enterprise's rules for one document kind by ``levels``
    ((level, min_amount, role), ...); an empty list means no approval at all."""
    if kind not in KINDS:
        raise InvalidRule(f"unknown document kind {kind!r}", kind=kind)
    levels = [_checked_rule(rule) for rule in levels]
    if len({level for level, _amount, _role in levels}) != len(levels):
        raise InvalidRule("two rules for one level")
    if actor_user_id is not None:
        rbac.require(session, user_in_tenant(session, enterprise_id, actor_user_id), "admin.users")
    before = {str(r.level): [str(r.min_amount), r.role] for r in rules_for(session, enterprise_id, kind)}
    session.execute(
        delete(ApprovalRule).where(ApprovalRule.enterprise_id == enterprise_id, ApprovalRule.document_kind == kind)
    )
    rules = [
        ApprovalRule(enterprise_id=enterprise_id, document_kind=kind, level=level,
                     min_amount=amount, role=role)
        for level, amount, role in sorted(levels)
    ]
    session.add_all(rules)
    session.flush()
    transaction_memo(session, _RULES_MEMO).pop(enterprise_id, None)
    audit.record(session, enterprise_id, actor_user_id, "approval.rules", "approval_rules", kind, before,
                 {str(r.level): [str(r.min_amount), r.role] for r in rules})
    return rules


def _checked_rule(rule) -> tuple[int, Decimal, str]:
    try:
        level, amount, role = rule
        amount = Decimal(str(amount))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidRule(f"bad rule {rule!r}: (level, min_amount, role) expected") from exc
    rbac.check_role(role)
    if "order.approve" not in rbac.ROLE_PERMISSIONS[role]:
        raise InvalidRule(f"a {role} cannot approve", role=role)
    if not isinstance(level, int) or isinstance(level, bool) or level < 1 or not amount.is_finite() or amount < 0:
        raise InvalidRule(f"bad rule level {level!r} amount {amount!r}")
    return level, amount, role


def install_default_rules(session: Session, enterprise_id: int) -> None:
    """Give an enterprise DEFAULT_RULES for every kind it has no rules for yet."""
    for kind, levels in DEFAULT_RULES.items():
        if not rules_for(session, enterprise_id, kind) and levels:
            set_rules(session, enterprise_id, kind, list(levels))


def rules_for(session: Session, enterprise_id: int, kind: str) -> list[ApprovalRule]:
    return list(session.scalars(
        select(ApprovalRule)
        .where(ApprovalRule.enterprise_id == enterprise_id, ApprovalRule.document_kind == kind)
        .order_by(ApprovalRule.level)
    ))


@dataclass(frozen=True)
class _Level:
    """One rule as approvals applies it (plain data: it outlives the rows' expiry)."""

    level: int
    min_amount: Decimal
    role: str


_RULES_MEMO = "erpcore.approvals.rules"
_ALL_RULES = select(ApprovalRule.document_kind, ApprovalRule.level, ApprovalRule.min_amount, ApprovalRule.role).where(
    ApprovalRule.enterprise_id == bindparam("enterprise_id")
).order_by(ApprovalRule.document_kind, ApprovalRule.level)


class _Rules:
    """The enterprise's rules of every kind, read once per transaction (a dispatcher
    batch decides many of its orders); set_rules forgets them."""

    def __init__(self, session: Session, enterprise_id: int):
        self.session, self.enterprise_id, self.by_kind = session, enterprise_id, None

    def levels(self, order: Order) -> list[_Level]:
        """The rules the order's total reaches, lowest level first."""
        if self.by_kind is None:
            memo = transaction_memo(self.session, _RULES_MEMO)
            self.by_kind = memo.get(self.enterprise_id)
            if self.by_kind is None:
                self.by_kind = {}
                for kind, level, amount, role in self.session.execute(
                        _ALL_RULES, {"enterprise_id": self.enterprise_id}):
                    self.by_kind.setdefault(kind, []).append(_Level(level, amount, role))
                memo[self.enterprise_id] = self.by_kind
        return [r for r in self.by_kind.get(order.kind, ()) if order.total >= r.min_amount]


class _Approvers:
    """Who may approve for a role, read once per call; the users are held, so that the
    notices telling them find them in the session without a query."""

    def __init__(self, session: Session, enterprise_id: int):
        self.session, self.enterprise_id, self.by_role = session, enterprise_id, {}

    def for_role(self, role: str, exclude: set[int]) -> tuple[int, ...]:
        if role not in self.by_role:
            self.by_role[role] = approvers(self.session, self.enterprise_id, role)
        return tuple(u.id for u in self.by_role[role] if u.id not in exclude)


def approvers(session: Session, enterprise_id: int, role: str, exclude: set[int] = frozenset()) -> list[User]:
    """Active users of the enterprise holding ``role`` (primary or extra) and allowed to
    approve, minus ``exclude`` (the requester and earlier approvers)."""
    users = document_memo.approvers_of(session, enterprise_id, role)
    if users is None:
        users = session.scalars(_APPROVERS, {"enterprise_id": enterprise_id, "role": role})
    # Holding the role grants the permission when the role does (rules are checked for
    # that): no roles query per approver then.
    grants = "order.approve" in rbac.ROLE_PERMISSIONS.get(role, ())
    return [u for u in users if u.id not in exclude
            and (grants or rbac.has_permission(session, u, "order.approve"))]


_APPROVERS = select(User).where(
    User.enterprise_id == bindparam("enterprise_id"), User.active.is_(True),
    (User.role == bindparam("role")) | User.id.in_(select(rbac.UserRole.user_id).where(
        rbac.UserRole.enterprise_id == bindparam("enterprise_id"), rbac.UserRole.role == bindparam("role"))),
).order_by(User.id)


def _decided_by(session: Session, orders: list[Order]) -> dict[int, set[int]]:
    """Who already decided on each of these orders (read ahead for a dispatcher batch
    until a decision on the order is written)."""
    held: dict[int, set[int]] = {order.id: set() for order in orders}
    remembered = document_memo.decisions_of(session, list(held)) if orders else None
    if remembered is not None:
        return remembered
    if orders:
        rows = session.execute(_DECIDED_BY, {"order_ids": list(held)})
        for order_id, user_id in rows:
            held[order_id].add(user_id)
    return held


_DECIDED_BY = select(ApprovalStep.order_id, ApprovalStep.decided_by_user_id).where(
    ApprovalStep.order_id.in_(bindparam("order_ids", expanding=True)))


def _awaiting(order: Order, rule: ApprovalRule, who: _Approvers, decided: set[int]) -> events.ApprovalRequested:
    """The event announcing that ``order`` awaits ``rule``'s level."""
    return events.ApprovalRequested(
        enterprise_id=order.enterprise_id, document_id=order.id, document_number=order.number,
        approver_user_ids=who.for_role(rule.role, {order.requester_user_id} | decided),
        amount=order.total,
    )


def opening(session: Session, enterprise_id: int, kind: str, total: Decimal) -> dict:
    """The state, level and role ``start`` gives a draft of this kind and total (for
    orders.create_orders, which inserts a submitted order in that state at once)."""
    levels = _Rules(session, enterprise_id).levels(_Draft(kind, total))
    if levels:
        return {"state": "pending_approval", "approval_level": levels[0].level, "awaiting_role": levels[0].role}
    return {"state": "approved", "approval_level": None, "awaiting_role": None}


@dataclass(frozen=True)
class _Draft:
    kind: str
    total: Decimal


def start(session: Session, orders: list[Order], actor_user_id: int, trail: Trail,
          written: bool = False) -> None:
    """Called by orders.submit_many with drafts of one enterprise: each awaits its first
    level, or is approved at once when no rule applies. ``written``: the rows already
    hold what ``opening`` said (the objects still read as drafts); only the objects are
    set, and the orders not as ``opening`` said (none) are written as usual."""
    if not orders:
        return
    rules = _Rules(session, orders[0].enterprise_id)
    who = _Approvers(session, orders[0].enterprise_id)
    changes, requested, decided = [], [], []
    for order in orders:
        levels = rules.levels(order)
        if levels:
            changes.append((order, transition(order, "pending_approval", actor_user_id, "order.submit", trail,
                                              approval_level=levels[0].level, awaiting_role=levels[0].role)))
            requested.append((order, levels[0]))
        else:
            transition(order, "pending_approval", actor_user_id, "order.submit", trail)
            trail.add(None, "order.auto_approve", "order", order.id, {"state": "pending_approval"},
                      {"state": "approved"})  # TRANSITIONS allows pending_approval -> approved
            changes.append((order, {"state": "approved", "approval_level": None, "awaiting_role": None}))
            decided.append(order)
    if written:
        stale = [(order, values) for order, values in changes
                 if values != opening(session, order.enterprise_id, order.kind, order.total)]
        for order, values in changes:
            for name, value in values.items():
                set_committed_value(order, name, value)
        changes = stale
    apply(session, changes)
    for order, rule in requested:
        events.publish(session, _awaiting(order, rule, who, set()))
    for order in decided:
        _decided(session, order, None, "approved", "")


def _decided(session: Session, order: Order, user_id: int | None, state: str, comment: str) -> None:
    events.publish(session, events.DocumentDecided(
        enterprise_id=order.enterprise_id, document_id=order.id, document_number=order.number,
        state=state, requester_user_id=order.requester_user_id,
        decided_by_user_id=user_id if user_id is not None else 0, comment=comment,
    ))


def _check_decider(order: Order, user: User, roles: set[str], decided: set[int]) -> None:
    if order.state != "pending_approval":
        raise IllegalTransition(
            f"order {order.number} is {order.state}, not awaiting approval",
            number=order.number, state=order.state, to="approved",
        )
    if user.id == order.requester_user_id:
        raise SelfApproval(f"{user.username} requested order {order.number}", number=order.number)
    if user.id in decided:
        raise SelfApproval(f"{user.username} already approved order {order.number}", number=order.number)
    if order.awaiting_role not in roles:
        raise NotApprover(
            f"order {order.number} awaits a {order.awaiting_role}", number=order.number,
            role=order.awaiting_role,
        )


def _clean(comment: str | None) -> str:
    return (comment or "").strip()[:MAX_COMMENT]


def _decider(session: Session, enterprise_id: int, user_id: int) -> tuple[User, set[str]]:
    require_open(session, enterprise_id, MODULE)
    user = user_in_tenant(session, enterprise_id, user_id)
    rbac.require(session, user, "order.approve")
    return user, rbac.roles_of(session, user)


def _step_row(order: Order, user: User, decision: str, comment: str, at: datetime) -> dict:
    return {
        "enterprise_id": order.enterprise_id, "order_id": order.id, "level": order.approval_level,
        "role": order.awaiting_role, "decision": decision, "decided_by_user_id": user.id,
        "comment": comment or None, "decided_at": at,
    }


def approve_many(
    session: Session, enterprise_id: int, numbers: list[str | int | Order], user_id: int, comment: str = "",
    now: Callable[[], datetime] = utcnow, trail: Trail | None = None,
) -> list[Order]:
    """Approve the level each order awaits, all or none; an order's last level approves it.
    ``trail``: the caller's, which then writes these audit entries with its own."""
    found = get_orders(session, enterprise_id, numbers)
    if not found:
        _decider(session, enterprise_id, user_id)  # refuses a non-approver even so
    approve_across(session, [Decision(enterprise_id, order, user_id, comment) for order in found], now,
                   None if trail is None else {enterprise_id: trail})
    return found


def check_approval(session: Session, enterprise_id: int, order: Order, user_id: int) -> None:
    """Raise what approving ``order`` would raise, writing nothing (a dispatcher batch
    checks its APPROVE commands before it carries them out together)."""
    user, roles = _decider(session, enterprise_id, user_id)
    _check_decider(order, user, roles, _decided_by(session, [order])[order.id])


@dataclass(frozen=True)
class Decision:
    """One approval to give: an order (loaded, of this enterprise) and who approves it."""

    enterprise_id: int
    order: Order
    user_id: int
    comment: str = ""


def approve_across(
    session: Session, decisions: Sequence[Decision], now: Callable[[], datetime] = utcnow,
    trails: dict[int, Trail] | None = None,
) -> None:
    """``approve_many`` for approvals of any enterprises and approvers at once (a dispatcher
    batch's APPROVE commands, one order each): all or none, every check before the first
    write; one INSERT of the steps, one UPDATE per distinct change. ``trails``: the
    callers' by enterprise id, which then write these entries with their own."""
    deciders: dict[tuple[int, int], tuple[User, set[str]]] = {}
    for decision in decisions:
        key = (decision.enterprise_id, decision.user_id)
        if key not in deciders:
            deciders[key] = _decider(session, *key)
    decided = _decided_by(session, [decision.order for decision in decisions])
    for decision in decisions:
        user, roles = deciders[decision.enterprise_id, decision.user_id]
        _check_decider(decision.order, user, roles, decided[decision.order.id])
    own_trails = trails is None
    trails = {} if trails is None else trails
    rules: dict[int, tuple[_Rules, _Approvers]] = {}
    at = now()
    steps, changes, requested, approved = [], [], [], []
    for decision in decisions:
        enterprise_id, order = decision.enterprise_id, decision.order
        user = deciders[enterprise_id, decision.user_id][0]
        comment = _clean(decision.comment)
        trail = trails.get(enterprise_id)
        if trail is None:
            trail = trails[enterprise_id] = Trail(session, enterprise_id)
        if enterprise_id not in rules:
            rules[enterprise_id] = (_Rules(session, enterprise_id), _Approvers(session, enterprise_id))
        levels, who = rules[enterprise_id]
        steps.append(_step_row(order, user, "approved", comment, at))
        decided[order.id].add(user.id)
        level = order.approval_level
        later = [r for r in levels.levels(order) if r.level > level]
        if later:
            trail.add(user.id, "approval.approve", "order", order.id, {"level": level},
                      {"level": level, "decision": "approved", "comment": comment, "next_level": later[0].level})
            changes.append((order, {"approval_level": later[0].level, "awaiting_role": later[0].role}))
            requested.append((order, later[0], who))
        else:
            changes.append((order, transition(order, "approved", user.id, "order.approve", trail)))
            approved.append((order, user.id, comment))
    document_memo.forget_decisions(session, [decision.order.id for decision in decisions])
    if steps:
        session.execute(insert(ApprovalStep), steps)
    apply(session, changes)
    if own_trails:
        for trail in trails.values():
            trail.write()
    for order, rule, who in requested:
        events.publish(session, _awaiting(order, rule, who, decided[order.id]))
    for order, user_id, comment in approved:
        _decided(session, order, user_id, "approved", comment)


def approve(
    session: Session, enterprise_id: int, number: str | int, user_id: int, comment: str = "",
    now: Callable[[], datetime] = utcnow, trail: Trail | None = None,
) -> Order:
    """Approve the level one order awaits (see approve_many)."""
    return approve_many(session, enterprise_id, [number], user_id, comment, now, trail)[0]


def reject(
    session: Session, enterprise_id: int, number: str | int, user_id: int, reason: str,
    now: Callable[[], datetime] = utcnow,
) -> Order:
    """Reject the order at the level it awaits; a reason is required."""
    order = get_order(session, enterprise_id, number)
    reason = _clean(reason)
    if not reason:
        raise ReasonRequired("a rejection needs a reason", number=order.number)
    user, roles = _decider(session, enterprise_id, user_id)
    _check_decider(order, user, roles, _decided_by(session, [order])[order.id])
    document_memo.forget_decisions(session, [order.id])
    session.execute(insert(ApprovalStep), [_step_row(order, user, "rejected", reason, now())])
    trail = Trail(session, enterprise_id)
    apply(session, [(order, transition(order, "rejected", user.id, "order.reject", trail))])
    trail.write()
    _decided(session, order, user.id, "rejected", reason)
    return order


def steps(session: Session, enterprise_id: int, number: str | int) -> list[ApprovalStep]:
    """The decisions taken on an order, in order."""
    order = get_order(session, enterprise_id, number)
    return list(session.scalars(
        select(ApprovalStep).where(ApprovalStep.order_id == order.id).order_by(ApprovalStep.id)
    ))


def pending_for(session: Session, enterprise_id: int, user_id: int) -> list[Order]:
    """Orders of the enterprise awaiting a level this user may approve (not their own,
    nor ones they already approved at an earlier level), oldest first."""
    user = user_in_tenant(session, enterprise_id, user_id)
    if not rbac.has_permission(session, user, "order.approve"):
        return []
    roles = rbac.roles_of(session, user)
    already = select(ApprovalStep.order_id).where(
        ApprovalStep.enterprise_id == enterprise_id, ApprovalStep.decided_by_user_id == user.id
    )
    return list(session.scalars(
        select(Order)
        .where(Order.enterprise_id == enterprise_id, Order.state == "pending_approval",
               Order.awaiting_role.in_(sorted(roles)), Order.requester_user_id != user.id,
               Order.id.not_in(already))
        .order_by(Order.id)
    ))


# -- one read of an enterprise's pending documents, shared by its approvers -----------------

@dataclass(frozen=True)
class PendingDocument:
    """What a list of documents awaiting approval shows of one order (plain data)."""

    id: int
    number: str
    kind: str
    state: str
    total: Decimal
    requester_user_id: int
    awaiting_role: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class EnterprisePending:
    """An enterprise's documents awaiting approval and who may decide them, read once so
    that many approvers' lists come from one read (200 managers reloading the WAP page).
    ``for_user`` answers what ``pending_for`` answers for the same data."""

    enterprise_id: int
    documents: tuple[PendingDocument, ...]  # oldest first
    decided: dict[int, frozenset[int]]  # document id -> users who decided a level of it
    active: frozenset[int]  # the enterprise's active users
    approvers: dict[int, frozenset[str]]  # active user allowed to approve -> primary + extra roles
    names: dict[int, str]  # requester of a document -> display name

    def for_user(self, user_id: int) -> list[PendingDocument]:
        """The documents ``user_id`` may decide, as ``pending_for``: a user who is not an
        active user of this enterprise is not found; one who may not approve gets none."""
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id not in self.active:
            raise NotFound(f"no user {user_id!r}", code="user.not_found", user_id=user_id)
        roles = self.approvers.get(user_id)
        if roles is None:
            return []
        return [d for d in self.documents
                if d.awaiting_role in roles and d.requester_user_id != user_id
                and user_id not in self.decided.get(d.id, ())]


def pending_in_enterprise(session: Session, enterprise_id: int) -> EnterprisePending:
    """Every document of the enterprise awaiting approval, the decisions already taken on
    them and the enterprise's users with their roles: four queries, whatever the number
    of approvers."""
    waiting = select(Order.id).where(Order.enterprise_id == enterprise_id, Order.state == "pending_approval")
    documents = tuple(PendingDocument(*row) for row in session.execute(
        select(Order.id, Order.number, Order.kind, Order.state, Order.total, Order.requester_user_id,
               Order.awaiting_role, Order.created_at)
        .where(Order.enterprise_id == enterprise_id, Order.state == "pending_approval").order_by(Order.id)
    ))
    decided: dict[int, set[int]] = {}
    if documents:
        for order_id, user_id in session.execute(
            select(ApprovalStep.order_id, ApprovalStep.decided_by_user_id)
            .where(ApprovalStep.enterprise_id == enterprise_id, ApprovalStep.order_id.in_(waiting))
        ):
            decided.setdefault(order_id, set()).add(user_id)
    extra: dict[int, set[str]] = {}
    for user_id, role in session.execute(
        select(rbac.UserRole.user_id, rbac.UserRole.role).where(rbac.UserRole.enterprise_id == enterprise_id)
    ):
        extra.setdefault(user_id, set()).add(role)
    requesters = {d.requester_user_id for d in documents}
    active, approvers, names = set(), {}, {}
    for user_id, role, is_active, name in session.execute(
        select(User.id, User.role, User.active, User.display_name).where(User.enterprise_id == enterprise_id)
    ):
        if user_id in requesters:
            names[user_id] = name
        if not is_active:
            continue
        active.add(user_id)
        roles = frozenset({role, *extra.get(user_id, ())})
        if any("order.approve" in rbac.ROLE_PERMISSIONS.get(r, ()) for r in roles):
            approvers[user_id] = roles
    return EnterprisePending(enterprise_id, documents, {k: frozenset(v) for k, v in decided.items()},
                             frozenset(active), approvers, names)
