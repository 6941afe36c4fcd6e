"""Suppliers and agents (sales partners) of an enterprise, and how well they perform.

The evaluation is computed from fulfilled orders, never typed in: the on-time rate is the
share of fulfilled purchase/sales orders with a due date that arrived by it, the return
rate the returned quantity over the delivered quantity.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, case, DateTime, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import audit
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound

PARTNER_KINDS = ("supplier", "agent")
RATE = Decimal("0.0001")


class PartnerNotFound(NotFound):
    code = "partner.not_found"


class InvalidPartner(InvalidInput):
    code = "partner.invalid"


class DuplicatePartner(Conflict):
    code = "partner.duplicate"


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "code"),
        CheckConstraint("kind IN ('supplier', 'agent')", name="kind"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    msisdn: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    def __repr__(self) -> str:
        return f"<Partner {self.kind} {self.code}>"


@dataclass(frozen=True)
class Evaluation:
    """A partner's record over its fulfilled orders; rates are None when nothing counts yet."""

    partner_code: str
    fulfilled_orders: int
    due_orders: int
    on_time_orders: int
    delivered_quantity: int
    returned_quantity: int

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.due_orders:
            return None
        return (Decimal(self.on_time_orders) / self.due_orders).quantize(RATE)

    @property
    def return_rate(self) -> Decimal | None:
        if not self.delivered_quantity:
            return None
        return (Decimal(self.returned_quantity) / self.delivered_quantity).quantize(RATE)


def add_partner(
    session: Session, enterprise_id: int, *, kind: str, code: str, name: str,
    msisdn: str | None = None, actor_user_id: int | None = None,
) -> Partner:
    """Register a supplier or an agent under a code unique in the enterprise."""
    code = (code or "").strip().upper()
    if kind not in PARTNER_KINDS:
        raise InvalidPartner(f"unknown partner kind {kind!r}", kind=kind)
    if not code or len(code) > 32 or not (name or "").strip():
        raise InvalidPartner("a partner needs a code (≤32) and a name")
    exists = session.scalar(
        select(Partner.id).where(Partner.enterprise_id == enterprise_id, Partner.code == code)
    )
    if exists is not None:
        raise DuplicatePartner(f"partner {code} exists", code_=code)
    partner = Partner(enterprise_id=enterprise_id, kind=kind, code=code, name=name.strip()[:128], msisdn=msisdn)
    session.add(partner)
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "partner.add", "partner", partner.id, None,
                 {"kind": kind, "code": code, "name": partner.name})
    return partner


def get_partner(session: Session, enterprise_id: int, code: str) -> Partner:
    partner = session.scalars(
        select(Partner).where(Partner.enterprise_id == enterprise_id, Partner.code == (code or "").strip().upper())
    ).first()
    if partner is None:
        raise PartnerNotFound(f"no partner {code!r}", partner=code)
    return partner


def evaluate(session: Session, enterprise_id: int, code: str) -> Evaluation:
    """Score the partner from its fulfilled orders (see the module docstring)."""
    from erpcore.orders import Order, OrderLine  # orders imports this module

    partner = get_partner(session, enterprise_id, code)
    mine = (Order.enterprise_id == enterprise_id, Order.partner_id == partner.id, Order.state == "fulfilled")
    delivering = Order.kind.in_(("purchase", "sales"))
    fulfilled, due, on_time = session.execute(
        select(
            func.count(),
            func.count(Order.due_date),
            func.coalesce(func.sum(case((Order.on_time.is_(True), 1), else_=0)), 0),
        ).where(*mine, delivering)
    ).one()
    quantities = dict(
        session.execute(
            select(Order.kind == "return", func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(*mine)
            .group_by(Order.kind == "return")
        ).all()
    )
    return Evaluation(
        partner_code=partner.code, fulfilled_orders=int(fulfilled), due_orders=int(due),
        on_time_orders=int(on_time), delivered_quantity=int(quantities.get(False, 0) or 0),
        returned_quantity=int(quantities.get(True, 0) or 0),
    )
