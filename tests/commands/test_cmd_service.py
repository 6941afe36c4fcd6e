"""SERVICE (FW / 服务): the enterprise admin opens, changes or closes a module by SMS; a
refusal is recorded but changes nothing else."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from erpcore import rbac, services
from erpcore.services import ServiceRequest
from tests.commands.cmd_helpers import CLERK, MANAGER, demo, in_db, set_pin, user


@pytest.fixture
def admin(sessionmaker):
    """The manager is made admin with password s3cret!"""
    def run(s):
        rbac.grant_role(s, user(s, MANAGER), "admin")
    in_db(sessionmaker, run)
    set_pin(sessionmaker, MANAGER, "s3cret!")


def is_open(sessionmaker, module):
    return in_db(sessionmaker, lambda s: services.is_open(s, demo(s).id, module))


def requests(sessionmaker):
    return in_db(sessionmaker, lambda s: [(r.action, r.module, r.result if hasattr(r, "result") else None)
                                         for r in s.scalars(select(ServiceRequest).order_by(ServiceRequest.id))])


@pytest.mark.parametrize("text", ["SERVICE DEMO s3cret! CLOSE alerts", "fw demo s3cret! close alerts",
                                  "服务 DEMO s3cret! 关闭 预警", "FW DEMO s3cret! GB 预警"])
def test_every_alias_closes_a_module(send, sessionmaker, admin, text):
    outcome = send(MANAGER, text)
    assert outcome.ok and outcome.reply == "The alerts service is now closed."
    assert not is_open(sessionmaker, "alerts")


def test_close_then_open_again_in_chinese(send, sessionmaker, admin):
    send(MANAGER, "FW DEMO s3cret! CLOSE tasks")
    assert send(MANAGER, "FW DEMO s3cret! 开通 任务").ok
    assert is_open(sessionmaker, "tasks")


@pytest.mark.parametrize("sender, text, fragment", [
    (MANAGER, "FW DEMO wrong! CLOSE alerts", "Wrong company code or password."),
    (MANAGER, "FW NOPE s3cret! CLOSE alerts", "Wrong company code or password."),
    (MANAGER, "FW DEMO s3cret! OPEN alerts", "already open"),
    (MANAGER, "FW DEMO s3cret! CLOSE moon", "No service moon"),
    (MANAGER, "FW DEMO s3cret! SHUT alerts", "OPEN, CHANGE or CLOSE"),
    (CLERK, "FW DEMO s3cret! CLOSE alerts", "企业代码或密码错误"),  # not an admin
    (MANAGER, "FW DEMO s3cret!", "Usage: SERVICE"),
])
def test_refused_requests_are_recorded_and_change_nothing(send, sessionmaker, admin, sender, text, fragment):
    before = len(requests(sessionmaker))
    outcome = send(sender, text)
    assert not outcome.ok and fragment in outcome.reply
    assert is_open(sessionmaker, "alerts")
    if "Usage" not in fragment:
        assert len(requests(sessionmaker)) == before + 1  # the refusal's record stayed
