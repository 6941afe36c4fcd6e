"""PENDING, APPROVE (Y / TY / 同意), REJECT (N / BH / 驳回) and STATUS (CX / 查询): every
alias and every refusal, with the notifications each decision leaves for the requester."""
from __future__ import annotations

import pytest

from commands.registry import Options
from tests.commands.cmd_helpers import (
    CLERK, KEEPER, MANAGER, OTHER, notices, order_state, set_pin, stock,
)


@pytest.fixture
def ordered(send):
    """Order 1001: the clerk's X100 x2 (9998), awaiting the manager."""
    assert send(CLERK, "DH X100 2").ok
    return "1001"


@pytest.mark.parametrize("text", ["PENDING", "pending", "DB", "待办", "ｄｂ"])
def test_pending_lists_what_awaits_me(send, ordered, text):
    outcome = send(MANAGER, text)
    assert outcome.ok and outcome.reply == "To approve (1): 1001 X100x2 9998 张伟. Reply Y <no> to approve"


@pytest.mark.parametrize("sender, reply", [(CLERK, "没有待您审批的单据。"), (KEEPER, "没有待您审批的单据。")])
def test_pending_is_empty_for_the_requester_and_for_non_approvers(send, ordered, sender, reply):
    assert send(sender, "待办").reply == reply


@pytest.mark.parametrize("text", ["Y 1001", "y 1001", "APPROVE 1001", "TY 1001", "同意 1001", "同意1001",
                                  "Y #1001", "Ｙ　１００１", "Y 1001 fine by me"])
def test_every_alias_of_approve_approves_and_receives_the_goods(send, sessionmaker, ordered, text):
    outcome = send(MANAGER, text)
    assert outcome.ok and outcome.command == "APPROVE"
    assert outcome.reply == "Order 1001 approved. Received at HALL1, now X100 14."
    assert order_state(sessionmaker, "1001") == "fulfilled"
    assert stock(sessionmaker, "X100", "HALL1") == 14
    assert notices(sessionmaker, CLERK) == [("decided:1", "Your order 1001 was approved by John Smith.")]


@pytest.mark.parametrize("text", ["N 1001 too dear", "REJECT 1001 too dear", "BH 1001 too dear", "驳回 1001 too dear"])
def test_every_alias_of_reject_rejects_with_the_reason_told_to_the_requester(send, sessionmaker, ordered, text):
    outcome = send(MANAGER, text)
    assert outcome.ok and outcome.reply == "Order 1001 rejected; the requester is told."
    assert order_state(sessionmaker, "1001") == "rejected"
    assert notices(sessionmaker, CLERK) == [("decided:1", "Your order 1001 was rejected by John Smith: too dear")]


@pytest.mark.parametrize(
    "sender, text, fragment",
    [
        (MANAGER, "Y", "Usage: APPROVE <no>"),
        (MANAGER, "N", "Usage: REJECT <no> <reason>"),
        (MANAGER, "N 1001", "A rejection needs a reason, e.g. REJECT 1001"),
        (MANAGER, "Y 9999", "No such document 9999. Send PENDING"),
        (MANAGER, "Y abc", "No such document abc"),
        (CLERK, "Y 1001", "您无权执行此操作"),  # the requester is a clerk: no right to approve
        (KEEPER, "同意 1001", "您无权执行此操作"),
        (OTHER, "Y 1001", "registered"),  # not a user of DEMO at all
    ],
)
def test_approval_refusals_change_nothing(send, sessionmaker, ordered, sender, text, fragment):
    outcome = send(sender, text)
    assert not outcome.ok and fragment in outcome.reply
    assert order_state(sessionmaker, "1001") == "pending_approval"
    assert notices(sessionmaker, CLERK) == []


def test_another_tenants_document_is_no_such_document(send, sessionmaker, ordered):
    from sqlalchemy import select

    from erpcore.services import ensure_open
    from erpcore.tenants import Enterprise
    from tests.commands.cmd_helpers import in_db
    from tests.commands.conftest import DEMO_NUMBER

    in_db(sessionmaker, lambda s: ensure_open(s, s.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one().id))
    other_number = DEMO_NUMBER[:-2] + "02"
    for text in ("Y 1001", "STATUS 1001", "N 1001 mine now"):
        outcome = send(OTHER, text, recipient=other_number)
        assert not outcome.ok and outcome.reply.startswith("No such document 1001")
    assert order_state(sessionmaker, "1001") == "pending_approval"


def test_a_decided_document_cannot_be_decided_again(send, ordered):
    assert send(MANAGER, "Y 1001").ok
    outcome = send(MANAGER, "N 1001 late")
    assert not outcome.ok and outcome.reply == "Document 1001 is fulfilled; nothing to do. Send STATUS 1001."


@pytest.fixture
def send_pin(sessionmaker, send):
    """send() with approvals from 5000 needing the PIN; the manager's PIN is 246810."""
    import commands
    from decimal import Decimal
    from erpcore.db import session_scope
    from tests.commands.conftest import DEMO_NUMBER, Sms

    set_pin(sessionmaker, MANAGER, "246810")

    def _send(sender, text):
        with session_scope(sessionmaker) as session:
            return commands.handle(session, Sms(sender, DEMO_NUMBER, text), "1065712345",
                                   options=Options(pin_above=Decimal("5000")))
    return _send


@pytest.mark.parametrize("text, reply", [
    ("Y 1001", "Order 1001 needs your PIN: Y 1001 <PIN>"),
    ("Y 1001 111111", "Wrong PIN; order 1001 not approved. Send Y 1001 <PIN>"),
])
def test_a_large_approval_without_the_right_pin_is_refused(send_pin, sessionmaker, ordered, text, reply):
    outcome = send_pin(MANAGER, text)
    assert (outcome.ok, outcome.reply) == (False, reply)
    assert order_state(sessionmaker, "1001") == "pending_approval"


def test_a_large_approval_with_the_pin_goes_through(send_pin, sessionmaker, ordered):
    assert send_pin(MANAGER, "Y 1001 246810 ok").ok
    assert order_state(sessionmaker, "1001") == "fulfilled"


def test_five_wrong_pins_lock_approvals(send_pin, ordered):
    for _ in range(5):
        send_pin(MANAGER, "Y 1001 000000")
    outcome = send_pin(MANAGER, "Y 1001 246810")
    assert not outcome.ok and "Too many wrong passwords" in outcome.reply


@pytest.mark.parametrize("text", ["STATUS 1001", "CX 1001", "查询 1001", "cx#1001"])
def test_status_shows_state_and_history(send, ordered, text):
    outcome = send(MANAGER, text)
    assert outcome.ok and outcome.reply.startswith("Order 1001 X100x2 9998: awaiting approval (manager). ")
    assert outcome.reply.endswith("张伟 submitted")


def test_status_in_chinese_after_the_decision(send, ordered):
    send(MANAGER, "Y 1001")
    reply = send(CLERK, "查询 1001").reply
    assert reply.startswith("订单1001 X100x2 9998元 已完成。") and "John Smith 批准" in reply and "入库" in reply


@pytest.mark.parametrize("sender, text, fragment", [
    (MANAGER, "CX", "Usage: STATUS <no>"),
    (MANAGER, "CX 4242", "No such document 4242"),
    (KEEPER, "查询 1001", "没有单据 1001"),  # may not see others' orders: as if it did not exist
])
def test_status_refusals(send, ordered, sender, text, fragment):
    outcome = send(sender, text)
    assert not outcome.ok and fragment in outcome.reply
