"""APPROVE (Y / TY / 同意): approve the level a document awaits, by its number (``Y 1001``);
the final approval books the receipt and tells the requester; the optional PIN above a
configured amount (``Y 1001 PIN``) with its lockout. Refusals change nothing."""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import (
    CLERK, FINANCE, KEEPER, MANAGER, OTHER, PIN, notices, order_state, set_pin, stock,
)
from tests.commands.cmd_tables import is_reply

COMMAND = "APPROVE"
ALIASES = ["Y 1001", "y 1001", "APPROVE 1001", "approve 1001", "TY 1001", "ty 1001", "同意 1001", "同意1001",
           "Y #1001", "Y NO.1001", "Ｙ　１００１", "ｙ，１００１", "Y,1001", "Y+1001", "Y＃1001", "Y 1001 fine by me"]
USAGE_EN = ("Usage: APPROVE <no> [comment] (or Y / TY): approves a document; large ones need your PIN after the"
            " number. E.g. Y 1001")
ERRORS = [
    (MANAGER, "Y", "usage", USAGE_EN),
    (MANAGER, "Y 9999", "order.not_found", "No such document 9999. Send PENDING for yours."),
    (MANAGER, "Y abc", "order.not_found", "No such document abc. Send PENDING for yours."),
    (CLERK, "Y 1001", "rbac.denied", "您无权执行此操作。发 帮助 查看您可用的指令。"),  # the requester, a clerk
    (KEEPER, "同意 1001", "rbac.denied", "您无权执行此操作。发 帮助 查看您可用的指令。"),
    (FINANCE, "Y 1001", "approval.not_approver", "单据 1001 待经理审批,您无权审批。发 待办 查看待审单据。"),
    (OTHER, "Y 1001",  # not a user of DEMO at all
     "unknown_sender", "您的号码未开通本服务,请联系管理员。 Number not registered; ask your admin."),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_approves_and_receives_the_goods(send, sessionmaker, ordered, text):
    outcome = send(MANAGER, text)
    assert (outcome.ok, outcome.command) == (True, "APPROVE")
    assert outcome.reply == "Order 1001 approved. Received at HALL1, now X100 14."
    assert order_state(sessionmaker, "1001") == "fulfilled"
    assert stock(sessionmaker, "X100", "HALL1") == 14
    assert notices(sessionmaker, CLERK) == [("decided:1", "Your order 1001 was approved by John Smith.")]


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_approval_refusals_change_nothing(send, sessionmaker, ordered, finance, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert order_state(sessionmaker, "1001") == "pending_approval"
    assert notices(sessionmaker, CLERK) == []


def test_an_approver_cannot_approve_their_own_order(send, sessionmaker):
    assert send(MANAGER, "ORDER X100 2 HALL1").ok  # 9998: awaits a manager, the requester is one
    outcome = send(MANAGER, "Y 1001")
    assert (outcome.ok, outcome.reply) == (
        False, "You cannot approve your own document or one twice (1001). Send PENDING for yours.")
    assert is_reply("approval.self", outcome.reply) and order_state(sessionmaker, "1001") == "pending_approval"


def test_a_decided_document_cannot_be_approved_again(send, ordered):
    assert send(MANAGER, "Y 1001").ok
    outcome = send(MANAGER, "同意 1001")
    assert (outcome.ok, outcome.reply) == (False, "Document 1001 is fulfilled; nothing to do. Send STATUS 1001.")
    assert is_reply("order.illegal_transition", outcome.reply)


def test_another_tenants_document_is_no_such_document(send, sessionmaker, ordered):
    from tests.commands.conftest import DEMO_NUMBER

    outcome = send(OTHER, "Y 1001", recipient=DEMO_NUMBER[:-2] + "02")
    assert (outcome.ok, outcome.reply) == (False, "No such document 1001. Send PENDING for yours.")
    assert order_state(sessionmaker, "1001") == "pending_approval"


@pytest.mark.parametrize("text, key, reply", [
    ("Y 1001", "approve.pin_needed", "Order 1001 needs your PIN; send Y 1001 <PIN>"),
    ("Y 1001 111111", "approve.bad_pin", "Wrong PIN; order 1001 not approved. Send Y 1001 <PIN>"),
])
def test_a_large_approval_without_the_right_pin_is_refused(send_pin, sessionmaker, ordered, text, key, reply):
    outcome = send_pin(MANAGER, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert order_state(sessionmaker, "1001") == "pending_approval"


def test_a_large_approval_with_the_pin_goes_through(send_pin, sessionmaker, ordered):
    assert send_pin(MANAGER, f"Y 1001 {PIN} ok").ok
    assert order_state(sessionmaker, "1001") == "fulfilled"


def test_an_approver_without_a_pin_is_told_to_set_one(send_pin, sessionmaker, ordered, finance):
    """A second manager level would need a PIN the approver never set."""
    from erpcore import rbac
    from tests.commands.cmd_helpers import in_db, user

    in_db(sessionmaker, lambda s: rbac.grant_role(s, user(s, FINANCE), "manager"))
    outcome = send_pin(FINANCE, "Y 1001 123456")
    assert (outcome.ok, outcome.reply) == (False, "您尚未设置密码,请在网页设置后再发 Y 1001 密码")
    assert is_reply("approve.no_pin", outcome.reply) and order_state(sessionmaker, "1001") == "pending_approval"


def test_five_wrong_pins_lock_approvals(send_pin, sessionmaker, ordered):
    for _ in range(5):
        send_pin(MANAGER, "Y 1001 000000")
    outcome = send_pin(MANAGER, f"Y 1001 {PIN}")
    assert (outcome.ok, outcome.reply) == (False, "Too many wrong passwords; try again in 15 minutes.")
    assert is_reply("auth.locked", outcome.reply) and order_state(sessionmaker, "1001") == "pending_approval"


def test_a_pin_is_checked_only_from_the_configured_amount(send, sessionmaker, ordered):
    set_pin(sessionmaker, MANAGER, PIN)
    assert send(MANAGER, "Y 1001").ok  # no pin_above configured: no PIN asked


def audit_actions(sessionmaker) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from erpcore.audit import AuditEntry
    from tests.commands.cmd_helpers import in_db

    return in_db(sessionmaker, lambda s: [tuple(row) for row in s.execute(
        select(AuditEntry.action, AuditEntry.entity).order_by(AuditEntry.id))])


def test_the_approval_and_its_receipt_leave_their_audit_entries_in_order(send, sessionmaker, ordered):
    before = audit_actions(sessionmaker)
    assert send(MANAGER, "Y 1001").ok
    assert audit_actions(sessionmaker)[len(before):] == [
        ("order.approve", "order"), ("movement.receive", "movement"), ("order.fulfil", "order")]


def test_a_receipt_that_cannot_be_booked_leaves_the_approval_only(send, sessionmaker):
    # N200 made serialised: its IMEIs are received on the web, so the movement refuses.
    from sqlalchemy import update

    from erpcore.items import Item
    from tests.commands.cmd_helpers import in_db

    in_db(sessionmaker, lambda s: s.execute(update(Item).where(Item.sku == "N200").values(serialised=True)))
    assert send(CLERK, "DH N200 20").ok  # 5980: awaits the manager
    before = (audit_actions(sessionmaker), stock(sessionmaker, "N200", "HALL1"))
    outcome = send(MANAGER, "Y 1001")
    assert (outcome.ok, outcome.reply) == (True, "Order 1001 approved. To be received by the storekeeper.")
    assert order_state(sessionmaker, "1001") == "approved"
    assert stock(sessionmaker, "N200", "HALL1") == before[1]
    assert audit_actions(sessionmaker)[len(before[0]):] == [("order.approve", "order")]
