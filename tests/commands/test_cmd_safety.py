"""Refusals common to every command: a command of a closed service and an unbound number
are refused with a clear reply and change nothing. (Another tenant's documents, approvals
without the right, the PIN: the commands' own tables. The same MO twice:
tests/e2e/test_e2e_flows.py and tests/pipeline.)"""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, close, order_count
from tests.commands.cmd_tables import is_reply

COMMAND = None  # every command
UNBOUND = "13712345678"
APPROVAL_CLOSED = "Your company's approval service is closed; ask your admin to open it."
#: (module closed, sender, text, key, reply)
ERRORS = [
    ("stock", CLERK, "库存 X100", "service.closed", "贵企业未开通库存业务,请联系管理员开通。"),
    ("stock", MANAGER, "IMEI 861234560000001", "service.closed",
     "Your company's stock service is closed; ask your admin to open it."),
    ("orders", CLERK, "订货 X100 1", "service.closed", "贵企业未开通订货业务,请联系管理员开通。"),
    ("orders", CLERK, "查询 1001", "service.closed", "贵企业未开通订货业务,请联系管理员开通。"),
    ("approval", MANAGER, "PENDING", "service.closed", APPROVAL_CLOSED),
    ("approval", MANAGER, "Y 1001", "service.closed", APPROVAL_CLOSED),
    ("approval", MANAGER, "N 1001 no", "service.closed", APPROVAL_CLOSED),
    ("alerts", KEEPER, "订阅 X100", "service.closed", "贵企业未开通预警业务,请联系管理员开通。"),
    ("alerts", KEEPER, "退订 X100", "service.closed", "贵企业未开通预警业务,请联系管理员开通。"),
    ("tasks", KEEPER, "任务", "service.closed", "贵企业未开通任务业务,请联系管理员开通。"),
    ("tasks", KEEPER, "完成 1", "service.closed", "贵企业未开通任务业务,请联系管理员开通。"),
]


@pytest.mark.parametrize("module, sender, text, key, reply", ERRORS)
def test_a_command_of_a_closed_service_is_refused_and_changes_nothing(send, sessionmaker, module, sender, text, key,
                                                                       reply):
    close(sessionmaker, module)
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert order_count(sessionmaker) == 0


def test_every_command_that_needs_a_module_is_in_the_table():
    import commands

    needing = {command.name for command in commands.REGISTRY.commands if command.module is not None}
    covered = {commands.REGISTRY.parse(text).command.name for _module, _sender, text, _key, _reply in ERRORS}
    assert needing == covered


@pytest.mark.parametrize("text", ["DH X100 1", "Y 1001", "DY ALL", "HELP", "FW DEMO x CLOSE alerts"])
def test_an_unbound_number_is_refused_whatever_it_sends(send, sessionmaker, text):
    outcome = send(UNBOUND, text)
    assert (outcome.ok, outcome.user_id) == (False, None) and is_reply("unknown_sender", outcome.reply)
    assert order_count(sessionmaker) == 0
