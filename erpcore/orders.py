"""Orders: purchase, sales, transfer and return documents with lines and a guarded life cycle.

An order's number is short and per enterprise (``1001``, ``1002`` ...: erpcore.sequences)
so that an approver can answer ``Y 1001`` by SMS. States move only along ``TRANSITIONS``; anything else is an
``IllegalTransition`` with a stable code. Approval levels are decided by
``erpcore.approvals``; fulfilment moves stock through ``erpcore.movements``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import (
    Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric, String, Text,
    UniqueConstraint, bindparam, func, insert, select, update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from erpcore import audit, document_memo, movements, rbac, services
from erpcore.audit import Trail
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound
from erpcore.items import Item
from erpcore.partners import Partner
from erpcore.sequences import next_number, reserve_many, reserve_numbers  # noqa: F401 - also orders.next_number
from erpcore.sites import Site
from erpcore.users import User

KINDS = ("purchase", "sales", "transfer", "return")
STATES = ("draft", "pending_approval", "approved", "rejected", "fulfilled", "cancelled")
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"pending_approval", "cancelled"}),
    "pending_approval": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"fulfilled", "cancelled"}),
    "rejected": frozenset(),
    "fulfilled": frozenset(),
    "cancelled": frozenset(),
}
# The stock movement each kind of order makes when fulfilled.
MOVEMENT_KIND = {"purchase": "receive", "sales": "ship", "transfer": "transfer", "return": "return"}
# The partner kind an order of each kind may name (return: either).
PARTNER_KINDS = {"purchase": ("supplier",), "sales": ("agent",), "transfer": (), "return": ("supplier", "agent")}
MAX_LINES = 200
MAX_QUANTITY = 1_000_000
CENT = Decimal("0.01")
MAX_PRICE = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_TOTAL = Decimal("999999999999.99")  # Numeric(14, 2)
MODULE = "orders"


def utcnow() -> datetime:
    """Naive UTC now (the columns are naive DateTime); patched by tests that need a clock."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class OrderNotFound(NotFound):
    code = "order.not_found"


class InvalidOrder(InvalidInput):
    code = "order.invalid"


class IllegalTransition(Conflict):
    code = "order.illegal_transition"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "number"),
        CheckConstraint("kind IN ('purchase', 'sales', 'transfer', 'return')", name="kind"),
        Index("ix_orders_pending", "enterprise_id", "state", "awaiting_role"),
        Index("ix_orders_partner", "enterprise_id", "partner_id", "state"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    number: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    requester_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    note: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    # The approval level awaited and the role that may give it (None when none is awaited).
    approval_level: Mapped[int | None]
    awaiting_role: Mapped[str | None] = mapped_column(String(32))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.kind} {self.state}>"

    def snapshot(self) -> dict:
        """The fields the audit trail keeps."""
        return {
            "number": self.number, "kind": self.kind, "state": self.state,
            "total": str(self.total), "approval_level": self.approval_level,
            "awaiting_role": self.awaiting_role,
        }


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))

    order: Mapped[Order] = relationship(back_populates="lines")


@dataclass(frozen=True)
class LineIn:
    """One requested line; unit_price None takes the item's list price."""

    item_id: int
    quantity: int
    unit_price: Decimal | str | None = None


@dataclass(frozen=True)
class Draft:
    """One order to create (the keyword arguments of create_order)."""

    kind: str
    requester_user_id: int
    lines: Sequence[LineIn]
    from_site_id: int | None = None
    to_site_id: int | None = None
    partner_id: int | None = None
    due_date: date | None = None
    note: str | None = None


def _in_tenant(session: Session, model, enterprise_id: int, row_id: int | None, what: str, held: dict | None = None):
    """The row of ``model`` with this id if it is the enterprise's; ``held`` keeps rows
    across a batch (the session's identity map holds them only weakly)."""
    if row_id is None:
        return None
    key = (model, row_id)
    row = held.get(key) if held is not None else None
    if row is None:
        row = session.get(model, row_id) if isinstance(row_id, int) and not isinstance(row_id, bool) else None
        if held is not None and row is not None:
            held[key] = row
    if row is None or row.enterprise_id != enterprise_id:
        raise InvalidOrder(f"no {what} {row_id!r}", code=f"order.unknown_{what}", **{what: row_id})
    return row


_MEMO_KEY = "erpcore.orders.memo"


def _memo(session: Session) -> dict:
    """A dict that lives as long as the session's current transaction (the identity map
    holds rows only weakly, and an SMS approver's every call would read them again)."""
    transaction = session.get_transaction()
    if transaction is None:
        return {}
    held = session.info.get(_MEMO_KEY)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_MEMO_KEY] = held
    return held[1]


def require_open(session: Session, enterprise_id: int, module: str) -> None:
    """services.require_open, remembered for the rest of the transaction once it passed."""
    memo = _memo(session)
    if ("open", enterprise_id, module) not in memo:
        services.require_open(session, enterprise_id, module)
        memo["open", enterprise_id, module] = True


def user_in_tenant(session: Session, enterprise_id: int, user_id: int) -> User:
    """The active user ``user_id`` of this enterprise; another tenant's user is not found."""
    memo = _memo(session)
    user = memo.get(("user", user_id))
    if user is None:
        user = session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
        if user is not None:
            memo["user", user_id] = user
    if user is None or user.enterprise_id != enterprise_id or not user.active:
        raise NotFound(f"no user {user_id!r}", code="user.not_found", user_id=user_id)
    return user


def _money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidOrder(f"bad {what}: {value!r}", code="order.bad_price") from exc
    if not amount.is_finite() or not 0 <= amount <= MAX_PRICE:
        raise InvalidOrder(f"bad {what}: {value!r}", code="order.bad_price")
    return amount


def _check_sites(kind: str, from_site: Site | None, to_site: Site | None) -> None:
    """The sites each kind moves stock between, as erpcore.movements expects them."""
    need_from, need_to = {
        "purchase": (False, True), "sales": (True, False), "transfer": (True, True), "return": (False, True),
    }[kind]
    if (from_site is not None) != need_from or (to_site is not None) != need_to:
        wanted = " and ".join(name for name, need in (("from_site", need_from), ("to_site", need_to)) if need)
        raise InvalidOrder(f"a {kind} order names {wanted} only", code="order.site_required", kind=kind)
    if kind == "transfer" and from_site is to_site:
        raise InvalidOrder("a transfer needs two different sites", code="order.same_site")


def _build(session: Session, enterprise_id: int, draft: Draft, held: dict, now: datetime) -> tuple[dict, list[dict]]:
    """The checked column values of ``draft``'s order (unnumbered) and of its lines."""
    if draft.kind not in KINDS:
        raise InvalidOrder(f"unknown order kind {draft.kind!r}", code="order.bad_kind", kind=draft.kind)
    requester = held.get(("requester", draft.requester_user_id))
    if requester is None:
        requester = user_in_tenant(session, enterprise_id, draft.requester_user_id)
        rbac.require(session, requester, "order.create")
        held[("requester", requester.id)] = requester
    if not draft.lines or len(draft.lines) > MAX_LINES:
        raise InvalidOrder("an order needs 1 to 200 lines", code="order.no_lines")
    from_site = _in_tenant(session, Site, enterprise_id, draft.from_site_id, "site", held)
    to_site = _in_tenant(session, Site, enterprise_id, draft.to_site_id, "site", held)
    _check_sites(draft.kind, from_site, to_site)
    partner = _in_tenant(session, Partner, enterprise_id, draft.partner_id, "partner", held)
    if partner is not None and partner.kind not in PARTNER_KINDS[draft.kind]:
        raise InvalidOrder(f"a {draft.kind} order cannot name a {partner.kind}", code="order.bad_partner")
    built, total = [], Decimal("0.00")
    for line in draft.lines:
        if not isinstance(line, LineIn):
            raise InvalidOrder(f"bad order line {line!r}", code="order.bad_line")
        item = _in_tenant(session, Item, enterprise_id, line.item_id, "item", held)
        quantity = line.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"bad quantity {quantity!r}", code="order.bad_quantity")
        price = _money(item.unit_price if line.unit_price is None else line.unit_price, "unit price")
        amount = (price * quantity).quantize(CENT)
        total += amount
        if total > MAX_TOTAL:
            raise InvalidOrder(f"order total above {MAX_TOTAL}", code="order.too_large")
        built.append({"item_id": item.id, "quantity": quantity, "unit_price": price, "amount": amount})
    order = {
        "enterprise_id": enterprise_id, "number": None, "kind": draft.kind, "state": "draft",
        "requester_user_id": requester.id, "from_site_id": draft.from_site_id, "to_site_id": draft.to_site_id,
        "partner_id": draft.partner_id, "due_date": draft.due_date, "note": draft.note, "created_at": now,
        "total": total, "approval_level": None, "awaiting_role": None, "on_time": None, "fulfilled_at": None,
    }
    return order, built


def create_orders(
    session: Session, enterprise_id: int, drafts: Sequence[Draft], now: Callable[[], datetime] = utcnow,
    submit: bool = False,
) -> list[Order]:
    """New draft orders with fresh consecutive numbers, all or none: every draft is
    checked before a number is taken. Raises InvalidOrder for anything that does not belong
    to this enterprise or does not add up, PermissionDenied without order.create.
    ``submit``: each is then sent for approval by its requester (as submit_many), and the
    audit entries of both steps are written together."""
    return create_across(session, [(enterprise_id, draft) for draft in drafts], now, submit)


def create_across(
    session: Session, drafts: Sequence[tuple[int, Draft]], now: Callable[[], datetime] = utcnow,
    submit: bool = False,
) -> list[Order]:
    """``create_orders`` for (enterprise id, draft) pairs of any enterprises (a dispatcher
    batch's ORDER commands), in the order given: all or none, each draft checked against
    its own enterprise before any number is taken; then one statement takes the numbers
    of every enterprise and one inserts every order (and one every line)."""
    held: dict[int, dict] = {}  # per enterprise: a row checked for one tenant is not another's
    for enterprise_id, _draft in drafts:
        if enterprise_id not in held:
            require_open(session, enterprise_id, MODULE)
            held[enterprise_id] = {}
    built = [(enterprise_id, *_build(session, enterprise_id, draft, held[enterprise_id], now()))
             for enterprise_id, draft in drafts]
    if not built:
        return []
    counts: dict[int, int] = {}
    for enterprise_id, _order, _lines in built:
        counts[enterprise_id] = counts.get(enterprise_id, 0) + 1
    numbers = {enterprise_id: iter(taken) for enterprise_id, taken in reserve_many(session, counts).items()}
    for enterprise_id, order, _lines in built:
        order["number"] = next(numbers[enterprise_id])
    if submit:
        from erpcore import approvals  # approvals imports this module

        # Inserted in the state submitting gives them (no UPDATE after); the objects read
        # as drafts until approvals.start has recorded the submission.
        for enterprise_id, order, _lines in built:
            order.update(approvals.opening(session, enterprise_id, order["kind"], order["total"]))
    # ORM bulk INSERT .. RETURNING: one multi-row statement and the Order objects back,
    # without the unit of work's per-object bookkeeping; the lines likewise, so that the
    # orders' ``lines`` need no query of their own afterwards (a notice names the item).
    created = list(session.scalars(_INSERT_ORDERS, [order for _eid, order, _lines in built]))
    lines = iter(session.scalars(_INSERT_LINES, [
        {**line, "order_id": order.id} for order, (_eid, _row, lines) in zip(created, built) for line in lines
    ]))
    for order, (_eid, _row, wanted) in zip(created, built):
        set_committed_value(order, "lines", [next(lines) for _line in wanted])
    if submit:
        for order in created:
            for name in ("state", "approval_level", "awaiting_role"):
                set_committed_value(order, name, "draft" if name == "state" else None)
    by_enterprise: dict[int, list[Order]] = {enterprise_id: [] for enterprise_id in held}
    for order in created:
        by_enterprise[order.enterprise_id].append(order)
    for enterprise_id, mine in by_enterprise.items():
        trail = Trail(session, enterprise_id)
        for order in mine:
            trail.add(order.requester_user_id, "order.create", "order", order.id, None, order.snapshot())
        if submit:
            for requester_id in sorted({order.requester_user_id for order in mine}):
                approvals.start(session, [o for o in mine if o.requester_user_id == requester_id], requester_id,
                                trail, written=True)
        trail.write()
    return created


_INSERT_ORDERS = insert(Order).returning(Order, sort_by_parameter_order=True).execution_options(render_nulls=True)
_INSERT_LINES = insert(OrderLine).returning(OrderLine, sort_by_parameter_order=True)


def create_order(
    session: Session, enterprise_id: int, *, kind: str, requester_user_id: int, lines: Sequence[LineIn],
    from_site_id: int | None = None, to_site_id: int | None = None, partner_id: int | None = None,
    due_date: date | None = None, note: str | None = None, now: Callable[[], datetime] = utcnow,
    submit: bool = False,
) -> Order:
    """A new draft order with a fresh number (see create_orders; ``submit``: sent for
    approval at once)."""
    draft = Draft(kind, requester_user_id, lines, from_site_id, to_site_id, partner_id, due_date, note)
    return create_orders(session, enterprise_id, [draft], now, submit)[0]


def _number_text(number: str | int) -> str | None:
    text = str(number).strip()
    return text if text.isascii() and text.isdigit() and len(text) <= 12 else None


def get_orders(session: Session, enterprise_id: int, numbers: Sequence[str | int | Order]) -> list[Order]:
    """The orders of this enterprise with these numbers, in the order asked; any number
    not found raises OrderNotFound. An Order already loaded may stand for its number (a
    batch caller that just created it saves reading it back); it too must be this
    enterprise's."""
    texts = [None if isinstance(n, Order) else _number_text(n) for n in numbers]
    wanted = sorted({t for t in texts if t is not None})
    found = document_memo.take_orders(session, enterprise_id, wanted) if wanted else {}
    rest = [t for t in wanted if t not in found]
    if rest:
        found.update({o.number: o for o in session.scalars(
            _ORDERS_BY_NUMBER, {"enterprise_id": enterprise_id, "numbers": rest})})
    result = []
    for number, text in zip(numbers, texts):
        if isinstance(number, Order) and number.enterprise_id == enterprise_id and number.id is not None:
            result.append(number)
        elif text in found:
            result.append(found[text])
        else:
            shown = number.number if isinstance(number, Order) else str(number).strip()
            raise OrderNotFound(f"no order {shown!r}", number=shown)
    return result


_ORDERS_BY_NUMBER = select(Order).where(
    Order.enterprise_id == bindparam("enterprise_id"), Order.number.in_(bindparam("numbers", expanding=True)))


def get_order(session: Session, enterprise_id: int, number: str | int) -> Order:
    """The order of this enterprise with this number (``1001`` or ``"1001"``)."""
    return get_orders(session, enterprise_id, [number])[0]


def order_by_id(session: Session, enterprise_id: int, order_id: int) -> Order:
    """The order with this id, if it belongs to this enterprise."""
    order = session.get(Order, order_id) if isinstance(order_id, int) else None
    if order is None or order.enterprise_id != enterprise_id:
        raise OrderNotFound(f"no order id {order_id!r}", order_id=order_id)
    return order


def check_transition(order: Order, state: str) -> None:
    """Raise IllegalTransition unless TRANSITIONS lets ``order`` go to ``state``."""
    if state not in TRANSITIONS[order.state]:
        raise IllegalTransition(
            f"order {order.number} cannot go from {order.state} to {state}",
            number=order.number, state=order.state, to=state,
        )


def transition(order: Order, state: str, actor_user_id: int | None, action: str, trail: Trail, **extra) -> dict:
    """The column values that move ``order`` to ``state`` (checked against TRANSITIONS),
    with the change added to ``trail``; ``apply`` writes them."""
    check_transition(order, state)
    values = {"state": state, **extra}
    if state != "pending_approval":
        values.update(approval_level=None, awaiting_role=None)
    before = order.snapshot()
    trail.add(actor_user_id, action, "order", order.id, before, {**before, **_plain(values)})
    return values


def _plain(values: dict) -> dict:
    return {k: (str(v) if isinstance(v, (Decimal, datetime, date)) else v) for k, v in values.items()}


def apply(session: Session, changes: Sequence[tuple[Order, dict]]) -> None:
    """Write order changes with one UPDATE per distinct set of values (not one per order),
    and set the loaded objects to match without the ORM updating them again."""
    groups: dict[tuple, list[Order]] = {}
    for order, values in changes:
        groups.setdefault(tuple(sorted(values.items())), []).append(order)
    for key, group in groups.items():
        values = dict(key)
        session.execute(_update_orders(tuple(values)),
                        {"order_ids": [order.id for order in group], **{f"new_{k}": v for k, v in key}})
        for order in group:
            for name, value in values.items():
                set_committed_value(order, name, value)


_UPDATES: dict[tuple[str, ...], object] = {}


def _update_orders(columns: tuple[str, ...]):
    """The UPDATE of these columns of some orders, built once per set of columns (a few
    in all): building and cache-keying it per call cost more than running it."""
    statement = _UPDATES.get(columns)
    if statement is None:
        table = Order.__table__
        statement = update(table).where(table.c.id.in_(bindparam("order_ids", expanding=True))).values(
            {name: bindparam(f"new_{name}") for name in columns})
        _UPDATES[columns] = statement
    return statement


def submit_many(
    session: Session, enterprise_id: int, numbers: Sequence[str | int | Order], actor_user_id: int,
) -> list[Order]:
    """Send drafts for approval, all or none; approvals decides the levels (none: approved
    at once). Only an order's requester submits it."""
    from erpcore import approvals  # approvals imports this module

    require_open(session, enterprise_id, MODULE)
    user_in_tenant(session, enterprise_id, actor_user_id)
    found = get_orders(session, enterprise_id, numbers)
    for order in found:
        if actor_user_id != order.requester_user_id:
            raise InvalidOrder("only the requester submits an order", code="order.not_requester",
                               number=order.number)
        check_transition(order, "pending_approval")
    trail = Trail(session, enterprise_id)
    approvals.start(session, found, actor_user_id, trail)
    trail.write()
    return found


def submit(session: Session, enterprise_id: int, number: str | int, actor_user_id: int) -> Order:
    """Send one draft for approval (see submit_many)."""
    return submit_many(session, enterprise_id, [number], actor_user_id)[0]


def cancel(session: Session, enterprise_id: int, number: str | int, actor_user_id: int, reason: str = "") -> Order:
    """Cancel an order not yet fulfilled: by its requester, or by whoever may see all orders."""
    require_open(session, enterprise_id, MODULE)
    order = get_order(session, enterprise_id, number)
    actor = user_in_tenant(session, enterprise_id, actor_user_id)
    if actor.id != order.requester_user_id:
        rbac.require(session, actor, "order.view_all")
    trail = Trail(session, enterprise_id)
    values = transition(order, "cancelled", actor.id, "order.cancel", trail, note=_note(order, reason))
    apply(session, [(order, values)])
    trail.write()
    return order


def _note(order: Order, reason: str) -> str | None:
    reason = (reason or "").strip()
    if not reason:
        return order.note
    return f"{order.note}\n{reason}" if order.note else reason


def fulfil(
    session: Session, enterprise_id: int, number: str | int, actor_user_id: int,
    imeis: Mapping[int, Sequence[str]] | None = None, now: Callable[[], datetime] = utcnow,
    levels: dict | None = None, trail: Trail | None = None,
) -> Order:
    """Carry out an approved order: one stock movement per line, then state fulfilled.
    Serialised items need their IMEIs (``imeis`` by item id). A movement that fails (not
    enough stock) raises; then no line has moved and the order stays approved. Every
    check that can refuse runs before the first write, so a caller need not wrap this in
    a savepoint of its own. ``levels``, if given, receives the quantity after the moves
    by (item id, site id), for a reply that tells the new stock; ``trail``, if given,
    takes the audit entries (the caller writes them with its own), only once it is done."""
    require_open(session, enterprise_id, MODULE)
    order = get_order(session, enterprise_id, number)
    actor = user_in_tenant(session, enterprise_id, actor_user_id)
    rbac.require(session, actor, "stock.move")
    check_transition(order, "fulfilled")
    lines = list(order.lines)
    caller_trail, trail = trail, Trail(session, enterprise_id)  # the movements' entries, then the order's
    if len(lines) == 1:  # one movement checks everything before its first write: no savepoint
        _move_line(session, order, lines[0], imeis, actor.id, trail, levels, alone=True)
    else:
        with session.begin_nested():  # all lines move, or none does
            for line in lines:
                _move_line(session, order, line, imeis, actor.id, trail, levels)
    at = now()
    on_time = None if order.due_date is None else at.date() <= order.due_date
    apply(session, [(order, transition(order, "fulfilled", actor.id, "order.fulfil", trail,
                                       fulfilled_at=at, on_time=on_time))])
    if caller_trail is None:
        trail.write()
    else:
        caller_trail.take(trail)
    return order


def _move_line(session: Session, order: Order, line: OrderLine, imeis, actor_id: int,
               trail: Trail, levels: dict | None = None, alone: bool = False) -> movements.Moved:
    """The line's movement (``levels`` takes the quantities after it). ``alone``: outside
    any savepoint of fulfil's, a refusal after the movement wrote (an event handler's:
    make_movement itself checks first) raises WroteBeforeRefusing instead, so that no
    caller answers it as a refusal and keeps the half."""
    from erpcore import written  # here: orders' imports are not this function's to change
    from erpcore.errors import ErpError

    writes = written.count(session) if alone else None
    try:
        moved = movements.make_movement(
            session, order.enterprise_id, kind=MOVEMENT_KIND[order.kind], item_id=line.item_id,
            quantity=line.quantity, from_site_id=order.from_site_id, to_site_id=order.to_site_id,
            imeis=(imeis or {}).get(line.item_id, ()), actor_user_id=actor_id,
            reference=f"order:{order.number}", trail=trail,
        )
    except ErpError as refusal:
        if alone and written.count(session) != writes:
            raise written.WroteBeforeRefusing(f"order {order.number}: {refusal}") from refusal
        raise
    if levels is not None:
        levels.update({(moved.item_id, site_id): quantity for site_id, quantity in moved.after.items()})
    return moved


def history(session: Session, enterprise_id: int, number: str | int) -> list:
    """The audit trail of one order, oldest first."""
    order = get_order(session, enterprise_id, number)
    return audit.history(session, enterprise_id, "order", order.id)


def list_orders(session: Session, enterprise_id: int, *, state: str | None = None, limit: int = 50) -> list[Order]:
    """The enterprise's newest orders, optionally in one state."""
    statement = select(Order).where(Order.enterprise_id == enterprise_id)
    if state is not None:
        statement = statement.where(Order.state == state)
    return list(session.scalars(statement.order_by(Order.id.desc()).limit(max(1, min(limit, 500)))))


def count_orders(session: Session, enterprise_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Order).where(Order.enterprise_id == enterprise_id))
