"""SUB (DY / 订阅): a low-stock alert for an item (or ALL) at my site, with an optional
threshold; one alert per crossing."""
from __future__ import annotations

import pytest

from tests.commands.alert_fixtures import subscriptions
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, in_db, notices
from tests.commands.cmd_tables import is_reply

COMMAND = "SUB"
SUBSCRIBED_ZH = "已订阅: X100在中心仓库低于300件时短信通知您。发 退订 X100 取消。"
ALIASES = ["SUB X100 300", "sub x100 300", "DY X100 300", "dy x100 300", "订阅 X100 300", "订阅X100 300",
           "ＤＹ　Ｘ１００，３００", "DY,X100,300", "DY#X100+300", "DY＃X100＋300", "DY MX100-AL00 300"]
USAGE_ZH = "用法: 订阅 货品|全部 [阈值] (或 DY): 本网点库存低于阈值时短信提醒。例: 订阅 X100 5"
THRESHOLD = "阈值须为1至1000000的整数,如 订阅 X100 5"
ERRORS = [
    (KEEPER, "DY", "usage", USAGE_ZH),
    (KEEPER, "DY X100 5 6", "usage", USAGE_ZH),
    (KEEPER, "DY X100 0", "alert.invalid", THRESHOLD),
    (KEEPER, "DY X100 lots", "alert.invalid", THRESHOLD),
    (KEEPER, "DY NOPE", "item.not_found", "没有货品 NOPE。请发编码、型号或TAC,如 库存 X100"),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_subscribes_at_my_site(send, sessionmaker, text):
    outcome = send(KEEPER, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (True, "SUB", SUBSCRIBED_ZH)
    assert subscriptions(sessionmaker, KEEPER) == [(300, False, True)]


@pytest.mark.parametrize("text", ["SUB ALL", "DY all", "订阅 全部", "dy qb"])
def test_sub_all_watches_every_item_at_the_default_threshold(send, sessionmaker, text):
    assert send(MANAGER, text).reply == (
        "Subscribed: you get an SMS when any item at any site falls below 10. Send UNSUB ALL to stop.")
    assert subscriptions(sessionmaker, MANAGER) == [(10, True, True)]


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_sub_refusals_change_nothing(send, sessionmaker, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
    assert subscriptions(sessionmaker, KEEPER) == []


def test_a_subscriber_gets_one_alert_per_crossing(send, sessionmaker):
    from erpcore import movements
    from erpcore.items import find_item
    from erpcore.sites import get_site
    from tests.commands.cmd_helpers import demo, user

    def ship(s):
        e = demo(s)
        movements.move(s, e.id, kind="ship", item_id=find_item(s, e.id, "X100").id, quantity=1,
                       from_site_id=get_site(s, e.id, "HALL1").id, actor_user_id=user(s, MANAGER).id)

    send(CLERK, "DY X100 12")  # HALL1 holds 12: at the threshold, armed
    in_db(sessionmaker, ship)  # 12 -> 11 crosses
    in_db(sessionmaker, ship)  # 11 -> 10 does not cross again
    [(key, text)] = notices(sessionmaker, CLERK)
    assert key.startswith("alert:") and "11 left, below 12" in text
