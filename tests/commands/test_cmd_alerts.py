"""SUB (DY / 订阅) and UNSUB (TD / 退订): low-stock alerts for my site, one per crossing."""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, close, in_db, notices


def subscriptions(sessionmaker, msisdn):
    from erpcore import alerts
    from tests.commands.cmd_helpers import user

    def run(s):
        who = user(s, msisdn)
        return [(r.threshold, r.item_id is None, r.site_id == who.site_id)
                for r in alerts.subscriptions(s, who.enterprise_id, who.id)]
    return in_db(sessionmaker, run)


@pytest.mark.parametrize("text", ["SUB X100 300", "dy x100 300", "订阅 X100 300", "订阅X100 300", "ＤＹ　Ｘ１００，３００"])
def test_every_alias_of_sub_subscribes_at_my_site(send, sessionmaker, text):
    outcome = send(KEEPER, text)
    assert outcome.ok and outcome.reply == "已订阅: X100在中心仓库低于300件时短信通知您。发 退订 X100 取消。"
    assert subscriptions(sessionmaker, KEEPER) == [(300, False, True)]


@pytest.mark.parametrize("text", ["SUB ALL", "DY all", "订阅 全部"])
def test_sub_all_watches_every_item_at_the_default_threshold(send, sessionmaker, text):
    assert send(MANAGER, text).reply == (
        "Subscribed: you get an SMS when any item at any site falls below 10. Send UNSUB ALL to stop.")
    assert subscriptions(sessionmaker, MANAGER) == [(10, True, True)]


@pytest.mark.parametrize("sender, text, fragment", [
    (KEEPER, "DY", "用法: 订阅"),
    (KEEPER, "DY X100 0", "阈值须为1至1000000的整数"),
    (KEEPER, "DY X100 lots", "阈值须为1至1000000的整数"),
    (KEEPER, "DY NOPE", "没有货品 NOPE"),
    (KEEPER, "TD X100", "您没有X100的库存提醒"),
    (KEEPER, "TD", "用法: 退订"),
])
def test_alert_refusals(send, sessionmaker, sender, text, fragment):
    outcome = send(sender, text)
    assert not outcome.ok and fragment in outcome.reply
    assert subscriptions(sessionmaker, KEEPER) == []


@pytest.mark.parametrize("text", ["UNSUB X100", "td x100", "退订 X100", "TD ALL", "退订 全部"])
def test_every_alias_of_unsub_ends_the_subscription(send, sessionmaker, text):
    send(KEEPER, "DY X100 300")
    outcome = send(KEEPER, text)
    assert outcome.ok and outcome.reply == "已退订1项库存提醒。"
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


def test_a_closed_alerts_service_refuses_sub(send, sessionmaker):
    close(sessionmaker, "alerts")
    outcome = send(KEEPER, "DY X100 5")
    assert not outcome.ok and outcome.reply == "贵企业未开通预警业务,请联系管理员开通。"
    assert subscriptions(sessionmaker, KEEPER) == []
