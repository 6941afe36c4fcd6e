"""REJECT (N / BH / 驳回): reject a document by number with a reason, which goes to the
requester by SMS; no reason, no rejection."""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import CLERK, FINANCE, KEEPER, MANAGER, notices, order_state
from tests.commands.cmd_tables import is_reply

COMMAND = "REJECT"
ALIASES = ["N 1001 too dear", "n 1001 too dear", "REJECT 1001 too dear", "reject 1001 too dear",
           "BH 1001 too dear", "bh 1001 too dear", "驳回 1001 too dear", "驳回1001 too dear",
           "Ｎ　１００１　too dear", "N,1001,too dear", "N#1001+too dear", "N，1001，too dear"]
ERRORS = [
    (MANAGER, "N", "usage",
     "Usage: REJECT <no> <reason> (or N / BH): rejects a document; a reason is required. E.g. N 1001 price too high"),
    (MANAGER, "N 1001", "approval.reason_required", "A rejection needs a reason, e.g. REJECT 1001 price too high"),
    (MANAGER, "驳回 1001", "approval.reason_required", "A rejection needs a reason, e.g. REJECT 1001 price too high"),
    (MANAGER, "N 4242 no", "order.not_found", "No such document 4242. Send PENDING for yours."),
    (KEEPER, "驳回 1001 不要", "rbac.denied", "您无权执行此操作。发 帮助 查看您可用的指令。"),
    (FINANCE, "驳回 1001 太贵", "approval.not_approver", "单据 1001 待经理审批,您无权审批。发 待办 查看待审单据。"),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_rejects_and_tells_the_requester_the_reason(send, sessionmaker, ordered, text):
    outcome = send(MANAGER, text)
    assert (outcome.ok, outcome.command) == (True, "REJECT")
    assert outcome.reply == "Order 1001 rejected; the requester is told."
    assert order_state(sessionmaker, "1001") == "rejected"
    assert notices(sessionmaker, CLERK) == [("decided:1", "Your order 1001 was rejected by John Smith: too dear")]


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_rejection_refusals_change_nothing(send, sessionmaker, ordered, finance, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert order_state(sessionmaker, "1001") == "pending_approval"
    assert notices(sessionmaker, CLERK) == []


def test_a_decided_document_cannot_be_rejected(send, ordered):
    assert send(MANAGER, "Y 1001").ok
    outcome = send(MANAGER, "N 1001 late")
    assert (outcome.ok, outcome.reply) == (False, "Document 1001 is fulfilled; nothing to do. Send STATUS 1001.")
