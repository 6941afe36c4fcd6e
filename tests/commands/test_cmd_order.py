"""ORDER (DH / 订货): a purchase into the user's site (or a named one), submitted at once;
the reply has its number; above the demo threshold (5000) the manager is asked by SMS,
below it the order is approved at once. Refusals say what to send and create nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest

from erpcore.items import Item
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, demo, in_db, notices, order_count, order_state, stock
from tests.commands.cmd_tables import is_reply

COMMAND = "ORDER"
WAITING = "订单1001已提交: X100x2 到一厅 共9998元,待经理审批。发 查询 1001 跟进。"
ALIASES = [
    "ORDER X100 2", "order x100 2", "DH X100 2", "dh x100 2", "订货 X100 2", "订货X100 2", "ＤＨ　Ｘ１００　２",
    "ＯＲＤＥＲ，Ｘ１００，２", "DH,X100,2", "DH，X100，2", "DH#X100+2", "DH＃X100＋2", "DH X100 2 HALL1",
    "DH X100 2 一厅", "DH MX100-AL00 2", "DH 86123456 2",
]
USAGE_ZH = "用法: 订货 货品 数量 [网点] (或 DH): 为本网点订货,回复单号,需审批时通知审批人。例: 订货 X100 5"
USAGE_EN = ("Usage: ORDER <item> <qty> [site] (or DH): orders stock for your site; replies with the order number"
            " and asks the approver. E.g. ORDER X100 5")
BAD_QUANTITY = "数量须为1至1000000的整数,如 订货 X100 5"
ERRORS = [
    (CLERK, "DH", "usage", USAGE_ZH),
    (CLERK, "DH X100", "usage", USAGE_ZH),
    (MANAGER, "ORDER X100 1 HALL1 extra", "usage", USAGE_EN),
    (CLERK, "DH X100 abc", "order.bad_quantity", BAD_QUANTITY),
    (CLERK, "DH X100 0", "order.bad_quantity", BAD_QUANTITY),
    (CLERK, "DH X100 -3", "order.bad_quantity", BAD_QUANTITY),
    (CLERK, "DH X100 2000000", "order.bad_quantity", BAD_QUANTITY),
    (CLERK, "DH Z900 1", "item.not_found", "没有货品 Z900。请发编码、型号或TAC,如 库存 X100"),  # OTHER's SKU
    (CLERK, "DH X100 1 MOON", "stock.site_not_found", "没有网点 MOON,请发其中之一: 中心仓库, 一厅, 二厅"),
    (MANAGER, "ORDER X100 1 OWH", "stock.site_not_found", "No site OWH; send one of: WH1, HALL1, HALL2"),
    (MANAGER, "ORDER X100 1", "order.site_required", "Name the receiving site, e.g. ORDER X100 5 HALL1"),
    (KEEPER, "订货 X100 1", "rbac.denied", "您无权执行此操作。发 帮助 查看您可用的指令。"),  # a storekeeper may not order
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_spelling_of_order_waits_for_the_manager_above_the_threshold(send, sessionmaker, text):
    outcome = send(CLERK, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (True, "ORDER", WAITING)
    assert order_state(sessionmaker, "1001") == "pending_approval"
    [(key, text_en)] = notices(sessionmaker, MANAGER)
    assert key.startswith("approval:") and "Y 1001" in text_en and "X100x2" in text_en


def test_an_order_below_the_threshold_is_approved_at_once_and_tells_nobody(send, sessionmaker):
    outcome = send(CLERK, "DH N200 1")
    assert outcome.reply == "订单1001已批准: N200x1 到一厅 共299元。待仓管入库。"
    assert order_state(sessionmaker, "1001") == "approved"
    assert notices(sessionmaker, MANAGER) == []


def test_a_manager_ordering_below_the_threshold_receives_the_goods_at_once(send, sessionmaker):
    outcome = send(MANAGER, "ORDER N200 3 HALL2")
    assert outcome.reply == "Order 1001 approved: N200 x3 to HALL2, total 897. Received at HALL2, now N200 10."
    assert stock(sessionmaker, "N200", "HALL2") == 10


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_order_refusals_say_what_to_send_and_change_nothing(send, sessionmaker, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (False, "ORDER", reply) and is_reply(key, reply)
    assert order_count(sessionmaker) == 0


def add_item(sessionmaker, sku, price, tac=None):
    in_db(sessionmaker, lambda s: s.add(Item(enterprise_id=demo(s).id, sku=sku, name=sku, tac=tac,
                                             unit_price=Decimal(price))))


def test_a_query_naming_two_items_asks_for_the_sku(send, sessionmaker):
    add_item(sessionmaker, "X100B", 1, tac="86123456")
    outcome = send(CLERK, "DH 86123456 1")
    assert (outcome.ok, outcome.reply) == (False, "86123456 对应多个货品: X100, X100B。请发编码。")
    assert is_reply("item.ambiguous", outcome.reply) and order_count(sessionmaker) == 0


def test_an_order_beyond_the_largest_total_asks_for_smaller_ones(send, sessionmaker):
    add_item(sessionmaker, "GOLD", "2000000")
    outcome = send(CLERK, "DH GOLD 1000000")
    assert (outcome.ok, outcome.reply) == (False, "金额过大,请分几次订货,如 订货 X100 5")
    assert is_reply("order.too_large", outcome.reply) and order_count(sessionmaker) == 0


def test_order_numbers_count_up_per_enterprise(send):
    assert "1001" in send(CLERK, "DH N200 1").reply
    assert "1002" in send(CLERK, "DH N200 1").reply
