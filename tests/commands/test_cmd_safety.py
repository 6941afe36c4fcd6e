"""Refusals common to every command: a closed service, an unbound number, and a partner's
stock seen only as far as sharing allows."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from erpcore import sharing
from erpcore.services import ensure_open
from erpcore.tenants import Enterprise
from tests.commands.cmd_helpers import CLERK, MANAGER, close, demo, in_db, user

UNBOUND = "13712345678"


@pytest.mark.parametrize("module, text, name", [
    ("stock", "库存 X100", "库存"), ("orders", "订货 X100 1", "订货"), ("approval", "待办", "审批"),
    ("alerts", "订阅 X100", "预警"), ("tasks", "任务", "任务"), ("stock", "串号 861234560000001", "库存"),
])
def test_a_command_of_a_closed_service_is_refused(send, sessionmaker, module, text, name):
    close(sessionmaker, module)
    outcome = send(CLERK, text)
    assert (outcome.ok, outcome.reply) == (False, f"贵企业未开通{name}业务,请联系管理员开通。")


@pytest.mark.parametrize("text", ["DH X100 1", "Y 1001", "DY ALL", "HELP"])
def test_an_unbound_number_is_refused(send, text):
    outcome = send(UNBOUND, text)
    assert not outcome.ok and outcome.user_id is None and "Number not registered" in outcome.reply


@pytest.fixture
def shared(sessionmaker):
    """OTHER shares its stock with DEMO at "detail"."""
    def run(s):
        other = s.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one()
        ensure_open(s, other.id)
        group = sharing.create_group(s, other.id, "partners")
        sharing.invite(s, other.id, group.id, "DEMO")
        sharing.accept(s, demo(s).id, group.id)
        sharing.set_rule(s, other.id, group.id, owner_id=other.id, viewer_id=demo(s).id, kind="stock",
                         level="detail")
    in_db(sessionmaker, run)


def test_a_partners_stock_is_shown_where_sharing_allows(send, shared):
    assert send(MANAGER, "STOCK X100 OTHER").reply == "OTHER X100: OWH 999"


def test_a_partners_stock_is_refused_without_sharing(send):
    outcome = send(MANAGER, "STOCK X100 other")
    assert (outcome.ok, outcome.reply) == (False, "That company does not share its stock with yours.")
