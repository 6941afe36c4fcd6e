"""PENDING (DB / 待办): the documents awaiting my decision, as many as fit, oldest first."""
from __future__ import annotations

import pytest

from commands.length import parts_needed
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER
from tests.commands.cmd_tables import is_reply

COMMAND = "PENDING"
ALIASES = ["PENDING", "pending", "Pending", "DB", "db", "待办", "ＤＢ", "ｐｅｎｄｉｎｇ", " 待办 ，"]
ERRORS = [
    (MANAGER, "PENDING 1001", "usage",
     "Usage: PENDING (or DB): lists documents awaiting your approval. Reply Y <no> to approve, N <no> <reason>"
     " to reject."),
    (CLERK, "待办 全部", "usage", "用法: 待办 (或 DB): 列出待您审批的单据。回复 Y 单号 同意, N 单号 原因 驳回。"),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_lists_what_awaits_me(send, ordered, text):
    outcome = send(MANAGER, text)
    assert (outcome.ok, outcome.command) == (True, "PENDING")
    assert outcome.reply == "To approve (1): 1001 X100x2 9998 张伟. Reply Y <no> to approve"


@pytest.mark.parametrize("sender", [CLERK, KEEPER])
def test_nothing_awaits_the_requester_or_a_non_approver(send, ordered, sender):
    assert send(sender, "待办").reply == "没有待您审批的单据。"


def test_many_documents_fit_in_three_sms_with_a_count_of_the_rest(send):
    for _ in range(40):
        assert send(CLERK, "DH X100 2").ok
    reply = send(MANAGER, "DB").reply
    assert reply.startswith("To approve (40): 1001 X100x2 9998 张伟; 1002 ") and "(+" in reply
    assert parts_needed(reply) <= 3


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_pending_refusals(send, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
