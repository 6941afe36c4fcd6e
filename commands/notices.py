"""Who is told what by SMS when a document moves: erpcore publishes ApprovalRequested and
DocumentDecided but stores no notification for them; these handlers do, in the
publisher's transaction (so a rolled-back approval tells nobody).

Keys make them idempotent: ``approval:<order id>:<user id>`` (a user decides one level of
an order at most; the gateway's notifier recognises the prefix to add the WAP link) and
``decided:<order id>``. Approval requests and decisions are not urgent: quiet hours hold
them until morning. An order approved at once (no rule applies) tells nobody: its ORDER
reply already said so.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from commands.formatting import lines_summary, money, user_name
from commands.length import clip_word
from erpcore import events, notifications
from erpcore.orders import Order
from erpcore.users import User

APPROVAL_KEY = "approval"
NAME_CHARS = 12  # a name is cut here: the instruction and the WAP link must fit too


def approval_key(order_id: int, user_id: int) -> str:
    return f"{APPROVAL_KEY}:{order_id}:{user_id}"


def parse_approval_key(key: str | None) -> tuple[int, int] | None:
    """(order id, approver user id) from an approval request's key, else None."""
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == APPROVAL_KEY and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


def on_approval_requested(session: Session, event: events.ApprovalRequested) -> None:
    order = session.get(Order, event.document_id)
    if order is None:
        return
    what = f"{lines_summary(session, order)} {money(order.total)}"
    who = clip_word(user_name(session, order.requester_user_id), NAME_CHARS)
    number = event.document_number
    zh = f"待审批: 订单{number} {who} {what}元。回复 Y {number} 同意, N {number} 原因 驳回"
    en = f"To approve: order {number} by {who}, {what}. Reply Y {number} to approve, N {number} <reason> to reject"
    for user_id in event.approver_user_ids:
        user = session.get(User, user_id)
        if user is None or not user.active or not user.msisdn:
            continue
        notifications.notify(session, events.Notification(
            enterprise_id=event.enterprise_id, msisdn=user.msisdn, user_id=user.id, text_zh=zh, text_en=en,
            urgent=False, key=approval_key(event.document_id, user.id),
        ))


def on_document_decided(session: Session, event: events.DocumentDecided) -> None:
    if not event.decided_by_user_id or not event.requester_user_id:
        return
    requester = session.get(User, event.requester_user_id)
    if requester is None or not requester.active or not requester.msisdn:
        return
    number, who = event.document_number, clip_word(user_name(session, event.decided_by_user_id), NAME_CHARS)
    if event.state == "approved":
        zh, en = f"您的订单{number}已由{who}批准。", f"Your order {number} was approved by {who}."
    else:
        reason = event.comment[:60]
        zh = f"您的订单{number}被{who}驳回: {reason}"
        en = f"Your order {number} was rejected by {who}: {reason}"
    notifications.notify(session, events.Notification(
        enterprise_id=event.enterprise_id, msisdn=requester.msisdn, user_id=requester.id, text_zh=zh, text_en=en,
        urgent=False, key=f"decided:{event.document_id}",
    ))


def install() -> None:
    """Subscribe the handlers (idempotent; commands/__init__ calls it at import)."""
    events.subscribe(events.ApprovalRequested, on_approval_requested)
    events.subscribe(events.DocumentDecided, on_document_decided)
