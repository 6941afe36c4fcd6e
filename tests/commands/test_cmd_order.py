"""ORDER / DH / 订货: a purchase into the user's site, submitted at once; the reply has its
number; above the demo threshold (5000) the manager is asked by SMS."""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import CLERK, MANAGER, KEEPER, notices, order_count, order_state, stock


@pytest.mark.parametrize("text", ["ORDER X100 2", "dh x100 2", "订货 X100 2", "订货X100 2", "ＤＨ　Ｘ１００　２",
                                  "DH,X100,2", "DH#X100+2", "DH X100 2 HALL1", "DH MX100-AL00 2"])
def test_every_spelling_of_order_waits_for_the_manager_above_the_threshold(send, sessionmaker, text):
    outcome = send(CLERK, text)
    assert outcome.ok and outcome.command == "ORDER"
    assert outcome.reply == "订单1001已提交: X100x2 到一厅 共9998元,待经理审批。发 查询 1001 跟进。"
    assert order_state(sessionmaker, "1001") == "pending_approval"
    [(key, text_en)] = notices(sessionmaker, MANAGER)
    assert key.startswith("approval:") and "Y 1001" in text_en and "X100x2" in text_en


def test_an_order_below_the_threshold_is_approved_at_once_and_tells_nobody(send, sessionmaker):
    outcome = send(CLERK, "DH N200 1")
    assert outcome.ok and outcome.reply.startswith("订单1001已批准: N200x1 到一厅 共299元。")
    assert order_state(sessionmaker, "1001") == "approved"
    assert notices(sessionmaker, MANAGER) == []


def test_a_manager_ordering_below_the_threshold_receives_the_goods_at_once(send, sessionmaker):
    outcome = send(MANAGER, "ORDER N200 3 HALL2")
    assert outcome.reply == "Order 1001 approved: N200 x3 to HALL2, total 897. Received at HALL2, now N200 10."
    assert stock(sessionmaker, "N200", "HALL2") == 10


@pytest.mark.parametrize(
    "sender, text, fragment",
    [
        (CLERK, "DH", "用法: 订货 货品 数量"),
        (CLERK, "DH X100", "用法: 订货 货品 数量"),
        (MANAGER, "ORDER X100 1 HALL1 extra", "Usage: ORDER <item> <qty> [site]"),
        (CLERK, "DH X100 abc", "数量须为1至1000000的整数"),
        (CLERK, "DH X100 0", "数量须为1至1000000的整数"),
        (CLERK, "DH X100 2000000", "数量须为1至1000000的整数"),
        (CLERK, "DH Z900 1", "没有货品 Z900"),  # the other tenant's SKU
        (CLERK, "DH X100 1 MOON", "没有网点 MOON"),
        (MANAGER, "ORDER X100 1", "Name the receiving site, e.g. ORDER X100 5 HALL1"),
        (KEEPER, "订货 X100 1", "您无权执行此操作"),  # a storekeeper may not order
    ],
)
def test_order_errors_say_what_to_send_and_change_nothing(send, sessionmaker, sender, text, fragment):
    outcome = send(sender, text)
    assert not outcome.ok and fragment in outcome.reply
    assert order_count(sessionmaker) == 0


def test_order_numbers_count_up_per_enterprise(send):
    assert "1001" in send(CLERK, "DH N200 1").reply
    assert "1002" in send(CLERK, "DH N200 1").reply
