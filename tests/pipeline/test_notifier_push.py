"""Approval requests to push-capable users also go as a WAP Push SI with the document link
(an outbox row of coding "binary" holding the user data in hex); nobody else gets one."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from erpcore.db import session_scope
from erpcore.messaging_models import Outbox
from erpcore.users import User
from gateway.pipeline.notifier import Notifier
from gateway.web.wap.push import ServiceIndication, decode_push

NOON_BEIJING = datetime(2024, 5, 1, 4, 0)
LINK = "http://w.example/wap/doc/1001?sig=xyz"


def push_capable(sessionmaker, *msisdns):
    with session_scope(sessionmaker) as session:
        session.execute(update(User).where(User.msisdn.in_(msisdns)).values(push_capable=True))


def outbox_rows(sessionmaker, approval_link=lambda _enterprise, number: LINK):
    with session_scope(sessionmaker) as session:
        Notifier(None, None, "1065712345", approval_link=approval_link).queue_batch(session, NOON_BEIJING)
    with session_scope(sessionmaker) as session:
        return [(r.sender, r.recipient, r.coding, r.text)
                for r in session.scalars(select(Outbox).order_by(Outbox.id))]


def test_a_push_capable_approver_also_gets_an_si_with_the_link(sessionmaker, stored):
    push_capable(sessionmaker, "13800000002", "13800000001")
    rows = outbox_rows(sessionmaker)
    texts = [(recipient, coding) for _s, recipient, coding, _t in rows]
    assert texts == [("13800000001", "ucs2"), ("13800000002", "gsm7"), ("13800000002", "binary")]
    sender, _recipient, _coding, payload = rows[2]
    assert sender == "106571234501"
    assert decode_push(bytes.fromhex(payload)) == ServiceIndication(LINK, "To approve 1001")


def test_users_not_flagged_get_the_sms_only(sessionmaker, stored):
    rows = outbox_rows(sessionmaker)
    assert [coding for _s, _r, coding, _t in rows] == ["ucs2", "gsm7"]
    assert rows[1][3] == f"To approve 1001 {LINK}"


def test_without_a_link_there_is_nothing_to_push(sessionmaker, stored):
    push_capable(sessionmaker, "13800000002")
    rows = outbox_rows(sessionmaker, approval_link=lambda _enterprise, _number: None)
    assert [coding for _s, _r, coding, _t in rows] == ["ucs2", "gsm7"]


def test_a_link_too_long_for_a_push_still_goes_by_sms(sessionmaker, stored):
    push_capable(sessionmaker, "13800000002")
    long_link = "http://w.example/" + "x" * 200
    rows = outbox_rows(sessionmaker, approval_link=lambda _enterprise, _number: long_link)
    assert "binary" not in [coding for _s, _r, coding, _t in rows]
    assert long_link in "".join(text for _s, recipient, _c, text in rows if recipient == "13800000002")
