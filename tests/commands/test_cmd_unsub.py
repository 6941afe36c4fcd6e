"""UNSUB (TD / 退订): end my low-stock alerts for an item, or ALL of them."""
from __future__ import annotations

import pytest

from tests.commands.alert_fixtures import subscriptions
from tests.commands.cmd_helpers import KEEPER, MANAGER
from tests.commands.cmd_tables import is_reply

COMMAND = "UNSUB"
ALIASES = ["UNSUB X100", "unsub x100", "TD X100", "td x100", "退订 X100", "退订X100", "ＴＤ　Ｘ１００", "TD,X100",
           "TD#X100", "TD ALL", "td all", "退订 全部", "TD＋ALL", "TD，全部"]
ERRORS = [
    (KEEPER, "TD", "usage", "用法: 退订 货品|全部 (或 TD): 取消库存提醒。例: 退订 X100"),
    (MANAGER, "UNSUB X100 N200", "usage", "Usage: UNSUB <item>|ALL (or TD): ends low-stock alerts. E.g. UNSUB X100"),
    (KEEPER, "TD N200", "unsub.none", "您没有N200的库存提醒。要订阅请发 订阅 N200"),
    (MANAGER, "UNSUB ALL", "unsub.none", "You have no alert for ALL. To get one send SUB ALL"),
    (KEEPER, "TD NOPE", "item.not_found", "没有货品 NOPE。请发编码、型号或TAC,如 库存 X100"),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_ends_the_subscription(send, sessionmaker, text):
    send(KEEPER, "DY X100 300")
    outcome = send(KEEPER, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (True, "UNSUB", "已退订1项库存提醒。")
    assert subscriptions(sessionmaker, KEEPER) == []


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_unsub_refusals_keep_the_subscriptions(send, sessionmaker, sender, text, key, reply):
    send(KEEPER, "DY X100 300")
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert subscriptions(sessionmaker, KEEPER) == [(300, False, True)]
