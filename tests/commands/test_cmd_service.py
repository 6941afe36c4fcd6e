"""SERVICE (FW / 服务): the enterprise administrator opens, changes or closes a module by SMS
with the company code and their password; a refusal is recorded but changes nothing else,
and wrong passwords lock like any other."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from erpcore import rbac, services
from erpcore.services import ServiceRequest
from tests.commands.cmd_helpers import CLERK, MANAGER, demo, in_db, set_pin, user
from tests.commands.cmd_tables import is_reply

COMMAND = "SERVICE"
ALIASES = ["SERVICE DEMO s3cret! CLOSE alerts", "service demo s3cret! close alerts", "FW DEMO s3cret! CLOSE alerts",
           "fw demo s3cret! close alerts", "服务 DEMO s3cret! 关闭 预警", "服务DEMO s3cret! GB 预警",
           "FW DEMO s3cret! GB alert", "ＦＷ　ＤＥＭＯ　s3cret!　ＣＬＯＳＥ　ａｌｅｒｔｓ", "FW,DEMO,s3cret!,CLOSE,alerts",
           "FW#DEMO+s3cret!+CLOSE+alerts", "FW，DEMO，s3cret!，关闭，预警"]
USAGE_EN = ("Usage: SERVICE <company> <password> OPEN|CHANGE|CLOSE <module> (or FW): the admin opens or closes a"
            " service. E.g. SERVICE DEMO secret OPEN alerts")
WRONG_PASSWORD = "Wrong company code or password. Check them and send again."
ERRORS = [
    (MANAGER, "FW DEMO s3cret!", "usage", USAGE_EN),
    (MANAGER, "FW DEMO wrong! CLOSE alerts", "auth.failed", WRONG_PASSWORD),
    (MANAGER, "FW NOPE s3cret! CLOSE alerts", "auth.failed", WRONG_PASSWORD),
    (CLERK, "FW DEMO s3cret! CLOSE alerts", "auth.failed", "企业代码或密码错误,请核对后重发。"),  # not an admin
    (MANAGER, "FW DEMO s3cret! OPEN alerts", "service.already_open",
     "The alerts service is already open. To change it send SERVICE <company> <password> CHANGE alerts"),
    (MANAGER, "FW DEMO s3cret! CLOSE moon", "service.unknown_module",
     "No service moon; send one of: stock orders approval alerts tasks sync sharing"),
    (MANAGER, "FW DEMO s3cret! SHUT alerts", "service.bad_action",
     "The action is OPEN, CHANGE or CLOSE, e.g. SERVICE <company> <password> OPEN alerts"),
    (MANAGER, "FW DEMO s3cret! CHANGE alerts note=" + "x" * 2100, "service.bad_params",
     "Bad parameters; write key=value, e.g. limit=5"),
]


@pytest.fixture
def admin(sessionmaker):
    """The manager is made admin with password s3cret!"""
    in_db(sessionmaker, lambda s: rbac.grant_role(s, user(s, MANAGER), "admin"))
    set_pin(sessionmaker, MANAGER, "s3cret!")


def is_open(sessionmaker, module):
    return in_db(sessionmaker, lambda s: services.is_open(s, demo(s).id, module))


def requests(sessionmaker):
    return in_db(sessionmaker, lambda s: [(r.action, r.module, r.result)
                                         for r in s.scalars(select(ServiceRequest).order_by(ServiceRequest.id))])


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_closes_a_module(send, sessionmaker, admin, text):
    outcome = send(MANAGER, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (True, "SERVICE", "The alerts service is now closed.")
    assert not is_open(sessionmaker, "alerts")
    assert requests(sessionmaker)[-1] == ("close", "alerts", "ok")


def test_close_then_open_again_in_chinese_and_change_its_parameters(send, sessionmaker, admin):
    send(MANAGER, "FW DEMO s3cret! CLOSE tasks")
    assert send(MANAGER, "FW DEMO s3cret! 开通 任务").ok
    assert send(MANAGER, "FW DEMO s3cret! BG 任务 limit=5").reply == "The tasks service is now changed."
    assert is_open(sessionmaker, "tasks")


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_refused_requests_are_recorded_and_change_nothing(send, sessionmaker, admin, sender, text, key, reply):
    before = len(requests(sessionmaker))
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert is_open(sessionmaker, "alerts")
    if key != "usage":
        assert len(requests(sessionmaker)) == before + 1  # the refusal's record stayed


def test_closing_a_closed_module_says_how_to_open_it(send, sessionmaker, admin):
    send(MANAGER, "FW DEMO s3cret! CLOSE alerts")
    outcome = send(MANAGER, "FW DEMO s3cret! CLOSE alerts")
    assert (outcome.ok, outcome.reply) == (
        False, "The alerts service is not open. To open it send SERVICE <company> <password> OPEN alerts")
    assert is_reply("service.not_open", outcome.reply) and not is_open(sessionmaker, "alerts")


def test_five_wrong_passwords_lock_the_admin_out(send, sessionmaker, admin):
    for n in range(5):
        send(MANAGER, f"FW DEMO wrong{n} CLOSE alerts")
    outcome = send(MANAGER, "FW DEMO s3cret! CLOSE alerts")
    assert (outcome.ok, outcome.reply) == (False, "Too many wrong passwords; try again in 15 minutes.")
    assert is_reply("auth.locked", outcome.reply) and is_open(sessionmaker, "alerts")
