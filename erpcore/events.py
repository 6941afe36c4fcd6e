"""In-transaction domain events, so one business module can react to another's change
(a stock movement crossing an alert threshold, an order needing an approver) without the
two importing each other.

Handlers run synchronously inside the publisher's transaction and session: what they write
commits or rolls back with the change that caused it (the transactional-outbox rule).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

Handler = Callable[[Session, object], None]
_handlers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type, handler: Handler) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def publish(session: Session, event: object) -> None:
    for handler in list(_handlers[type(event)]):
        handler(session, event)


@dataclass(frozen=True)
class StockChanged:
    """The quantity of one item at one site changed (after the change is flushed)."""

    enterprise_id: int
    item_id: int
    site_id: int
    before: int
    after: int
    movement_id: int | None = None


@dataclass(frozen=True)
class Notification:
    """Somebody must be told something by SMS. Published by business modules; the
    messaging side (commands/dispatcher) turns it into outbox rows in the same transaction.

    `key` deduplicates: the same key is sent once (e.g. "alert:rule:17:crossing:42")."""

    enterprise_id: int
    msisdn: str
    text_zh: str
    text_en: str
    user_id: int | None = None
    urgent: bool = False
    key: str | None = None


@dataclass(frozen=True)
class ApprovalRequested:
    enterprise_id: int
    document_id: int
    document_number: str
    approver_user_ids: tuple[int, ...]
    amount: Decimal | None = None


@dataclass(frozen=True)
class DocumentDecided:
    enterprise_id: int
    document_id: int
    document_number: str
    state: str  # "approved" | "rejected"
    requester_user_id: int | None
    decided_by_user_id: int
    comment: str = ""
