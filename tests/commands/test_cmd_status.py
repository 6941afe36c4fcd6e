"""STATUS (CX / 查询): a document's state and its history, dates in the enterprise's local
time; hidden (as if it did not exist) from anybody who may not see it."""
from __future__ import annotations

import pytest

from erpcore import tenants
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, OTHER, demo, in_db
from tests.commands.cmd_tables import is_reply

COMMAND = "STATUS"
ALIASES = ["STATUS 1001", "status 1001", "CX 1001", "cx 1001", "查询 1001", "查询1001", "cx#1001", "CX,1001",
           "CX+1001", "ＣＸ　１００１", "查询，＃１００１"]
ERRORS = [
    (MANAGER, "CX", "usage", "Usage: STATUS <no> (or CX): state and history of a document. E.g. STATUS 1001"),
    (MANAGER, "CX 1001 1002", "usage", "Usage: STATUS <no> (or CX): state and history of a document. E.g. STATUS 1001"),
    (MANAGER, "CX 4242", "order.not_found", "No such document 4242. Send PENDING for yours."),
    (KEEPER, "查询 1001", "order.not_found", "没有单据 1001。发 待办 查看待审单据。"),  # may not see others' orders
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_shows_state_and_history(send, ordered, text):
    outcome = send(MANAGER, text)
    assert (outcome.ok, outcome.command) == (True, "STATUS")
    assert outcome.reply.startswith("Order 1001 X100x2 9998: awaiting approval (manager). ")
    assert outcome.reply.endswith("张伟 submitted")


def test_in_chinese_after_the_decision(send, ordered):
    send(MANAGER, "Y 1001")
    reply = send(CLERK, "查询 1001").reply
    assert reply.startswith("订单1001 X100x2 9998元 已完成。") and "John Smith 批准" in reply and "入库" in reply


def history_dates(reply: str) -> list[str]:
    import re

    return re.findall(r"\d\d-\d\d \d\d:\d\d", reply)


def test_dates_are_in_the_enterprises_local_time(send, sessionmaker, ordered):
    from datetime import datetime, timedelta

    from erpcore.audit import AuditEntry

    stored = in_db(sessionmaker, lambda s: [e.at for e in s.query(AuditEntry).filter_by(action="order.submit")])[0]
    beijing = (stored + timedelta(hours=8)).strftime("%m-%d %H:%M")  # the gateway's default offset
    assert history_dates(send(MANAGER, "CX 1001").reply) == [beijing]
    in_db(sessionmaker, lambda s: tenants.set_utc_offset(s, demo(s).id, "-05:00"))
    assert history_dates(send(MANAGER, "CX 1001").reply) == [(stored - timedelta(hours=5)).strftime("%m-%d %H:%M")]
    assert isinstance(stored, datetime)


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_status_refusals(send, ordered, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)


def test_another_tenants_document_is_no_such_document(send, ordered):
    from tests.commands.conftest import DEMO_NUMBER

    outcome = send(OTHER, "STATUS 1001", recipient=DEMO_NUMBER[:-2] + "02")
    assert (outcome.ok, outcome.reply) == (False, "No such document 1001. Send PENDING for yours.")
