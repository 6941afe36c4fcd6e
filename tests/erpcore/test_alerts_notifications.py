"""Low-stock alerts fire once per crossing of the threshold and become stored SMS
notifications; subscriptions are per user, per item or ALL items."""
from __future__ import annotations

import pytest

from erpcore import alerts, events, movements, notifications
from erpcore.errors import NotFound, PermissionDenied
from tests.erpcore.documents_helpers import level


def ship(session, world, quantity, site="HALL1", sku="X100"):
    movements.move(session, world.demo, kind="ship", item_id=world.items[sku], quantity=quantity,
                   from_site_id=world.sites[site])


def receive(session, world, quantity, site="HALL1", sku="X100"):
    movements.move(session, world.demo, kind="receive", item_id=world.items[sku], quantity=quantity,
                   to_site_id=world.sites[site])


def texts_for(session, world, username):
    return [n.text_en for n in notifications.for_user(session, world.demo, world.users[username])]


def test_a_storekeeper_at_threshold_10_is_told_once_per_crossing(session, world):
    """Stock 12 → 9 → 8 → 7: one alert. Up to 10 and down to 9 again: a second one."""
    alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10)
    assert level(session, world.items["X100"], world.sites["HALL1"]) == 12
    for quantity in (3, 1, 1):
        ship(session, world, quantity)
    assert level(session, world.items["X100"], world.sites["HALL1"]) == 7
    sent = texts_for(session, world, "wang")
    assert sent == ["Low stock: Huawei Mate X100 (X100) at Hall 1: 9 left, below 10."]
    zh = notifications.for_user(session, world.demo, world.users["wang"])[0]
    assert zh.text_zh == "库存预警:一厅的华为Mate X100(X100)剩9件,低于10。"
    assert (zh.msisdn, zh.state) == ("13800000003", "pending")

    receive(session, world, 3)  # back to 10: re-armed, nothing sent
    assert len(texts_for(session, world, "wang")) == 1
    ship(session, world, 1)
    assert len(texts_for(session, world, "wang")) == 2


def test_a_rise_that_stays_below_the_threshold_does_not_re_arm(session, world):
    alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10)
    ship(session, world, 5)   # 12 -> 7: alert
    receive(session, world, 2)  # 9
    ship(session, world, 2)   # 7: still the same crossing
    assert len(texts_for(session, world, "wang")) == 1


def test_a_subscription_to_all_items_watches_every_item_and_site(session, world):
    alerts.subscribe(session, world.demo, world.users["wang"], None, 20)
    ship(session, world, 1, site="HALL1", sku="CHG1")  # 30 -> 29: no
    ship(session, world, 10, site="HALL1", sku="CHG1")  # 29 -> 19: yes
    ship(session, world, 6, site="HALL2", sku="CHG1")  # 25 -> 19: yes, another site
    assert len(texts_for(session, world, "wang")) == 2
    assert [f.after for f in alerts.firings(session, world.demo)] == [19, 19]


def test_each_recipient_of_a_rule_is_told_and_others_are_not(session, world):
    alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10)
    alerts.subscribe(session, world.demo, world.users["smith"], world.items["X100"], None)  # joins wang's rule
    assert len(alerts.subscriptions(session, world.demo, world.users["smith"])) == 1
    ship(session, world, 5)
    assert len(texts_for(session, world, "wang")) == len(texts_for(session, world, "smith")) == 1
    assert texts_for(session, world, "zhang") == []


def test_after_unsubscribing_nothing_more_is_sent(session, world):
    alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10)
    assert alerts.unsubscribe(session, world.demo, world.users["wang"], world.items["X100"]) == 1
    assert alerts.count_rules(session, world.demo) == 0  # no recipients left: the rule went
    ship(session, world, 5)
    assert texts_for(session, world, "wang") == []
    assert alerts.unsubscribe(session, world.demo, world.users["wang"], world.items["X100"]) == 0


def test_subscribing_someone_else_needs_alert_manage(session, world):
    with pytest.raises(PermissionDenied):
        alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10,
                         actor_user_id=world.users["zhang"])
    alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10,
                     actor_user_id=world.users["smith"])
    assert len(alerts.subscriptions(session, world.demo, world.users["wang"])) == 1


@pytest.mark.parametrize("threshold", [0, -1, True, "10", 10**7])
def test_a_bad_threshold_is_refused(session, world, threshold):
    with pytest.raises(alerts.InvalidAlert):
        alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], threshold)
    assert alerts.count_rules(session, world.demo) == 0


def test_alerts_are_scoped_to_their_tenant(session, world):
    """Another tenant's user, item or site is not found; OTHER's stock never fires DEMO's rule."""
    from sqlalchemy import select

    from erpcore.items import Item

    other_item = session.scalars(select(Item.id).where(Item.enterprise_id == world.other)).first()
    for call in (
        lambda: alerts.subscribe(session, world.demo, world.other_user, None, 10),
        lambda: alerts.subscribe(session, world.demo, world.users["wang"], other_item, 10),
        lambda: alerts.subscribe(session, world.other, world.users["wang"], None, 10),
        lambda: alerts.unsubscribe(session, world.other, world.users["wang"], None),
    ):
        with pytest.raises(NotFound):
            call()
    alerts.subscribe(session, world.demo, world.users["wang"], None, 1000)
    events.publish(session, events.StockChanged(world.other, other_item, 1, before=999, after=5))
    assert alerts.firings(session, world.demo) == [] and alerts.firings(session, world.other) == []
    assert alerts.subscriptions(session, world.other, world.users["wang"]) == []


def test_a_closed_alerts_module_fires_nothing(session, world):
    from erpcore import services

    alerts.subscribe(session, world.demo, world.users["wang"], world.items["X100"], 10)
    services.close_service(session, world.demo, "alerts")
    ship(session, world, 5)
    assert texts_for(session, world, "wang") == []


def test_a_notification_key_is_stored_once(session, world):
    note = events.Notification(world.demo, "+86 138-0000-0003", "你好", "hello", world.users["wang"], key="k1")
    first = notifications.notify(session, note)
    assert first is not None and first.msisdn == "13800000003"
    assert notifications.notify(session, note) is None
    assert [n.id for n in notifications.pending(session)] == [first.id]
    assert notifications.mark_queued(session, [first.id]) == 1
    assert notifications.pending(session) == []


def test_urgent_notifications_come_first_and_bad_ones_are_refused(session, world):
    calm = notifications.notify(session, events.Notification(world.demo, "13800000003", "a", "a"))
    urgent = notifications.notify(session, events.Notification(world.demo, "13800000001", "b", "b", urgent=True))
    assert [n.id for n in notifications.pending(session)] == [urgent.id, calm.id]
    for bad in (events.Notification(world.demo, "not a number", "x", "x"),
                events.Notification(world.demo, "13800000003", "", "")):
        with pytest.raises(notifications.InvalidNotification):
            notifications.notify(session, bad)
