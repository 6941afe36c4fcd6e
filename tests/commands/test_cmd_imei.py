"""IMEI (CH / 串号): where one handset is and its history, dated in local time."""
from __future__ import annotations

import pytest

from commands.length import parts_needed
from tests.commands.cmd_helpers import KEEPER, MANAGER, in_db
from tests.commands.cmd_tables import is_reply

COMMAND = "IMEI"
IMEI = "861234560000001"
ALIASES = ["IMEI {i}", "imei {i}", "Imei {i}", "CH {i}", "ch {i}", "串号 {i}", "串号{i}", "ＣＨ　{i}", "CH,{i}",
           "CH#{i}", "CH+{i}", "CH，{i}", "ＩＭＥＩ {i}"]
INVALID = "串号 {q} 无效,请发15位数字,如 串号 861234560000001"
ERRORS = [
    (KEEPER, "CH", "usage", "用法: 串号 串号 (或 CH): 查一部手机现在何处及其经过。例: 串号 861234560000001"),
    (KEEPER, "CH 1 2", "usage", "用法: 串号 串号 (或 CH): 查一部手机现在何处及其经过。例: 串号 861234560000001"),
    (KEEPER, "CH 123", "imei.invalid", INVALID.format(q="123")),
    (KEEPER, "CH 86123456000000X", "imei.invalid", INVALID.format(q="86123456000000X")),
    (MANAGER, "IMEI 1234567890123456", "imei.invalid",
     "IMEI 1234567890123456 is not valid: send its 15 digits, e.g. IMEI 861234560000001"),
    (KEEPER, f"CH {IMEI[:-1]}9", "imei.not_found",
     f"没有串号 {IMEI[:-1]}9 的手机。请发15位串号,如 串号 861234560000001"),
]


@pytest.fixture
def handset(sessionmaker):
    """One serialised X100 handset received at WH1, then moved to HALL1."""
    from erpcore import imei, movements
    from erpcore.items import find_item
    from erpcore.sites import get_site
    from tests.commands.cmd_helpers import demo, user

    def run(s):
        e = demo(s)
        item = find_item(s, e.id, "X100")
        item.serialised = True
        s.flush()
        good = IMEI[:-1] + imei.luhn_check_digit(IMEI[:-1])
        movements.move(s, e.id, kind="receive", item_id=item.id, quantity=1, to_site_id=get_site(s, e.id, "WH1").id,
                       imeis=[good], actor_user_id=user(s, MANAGER).id)
        return good
    return in_db(sessionmaker, run)


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_says_where_a_handset_is(send, handset, text):
    outcome = send(MANAGER, text.format(i=handset))
    assert (outcome.ok, outcome.command) == (True, "IMEI")
    assert outcome.reply.startswith(f"{handset} X100 in stock WH1. History, latest first: ")
    assert outcome.reply.endswith("receive ->WH1")


def test_in_chinese_the_steps_are_named_in_chinese(send, handset):
    reply = send(KEEPER, f"串号 {handset}").reply
    assert reply.startswith(f"{handset} X100 在库 WH1。经过(新在前): ") and reply.endswith("入库 ->WH1")


def test_a_long_history_fits_in_three_sms(send, sessionmaker, handset):
    from erpcore import movements
    from erpcore.items import find_item
    from erpcore.sites import get_site
    from tests.commands.cmd_helpers import demo

    def shuttle(s):
        e = demo(s)
        item, wh1, hall1 = find_item(s, e.id, "X100"), get_site(s, e.id, "WH1"), get_site(s, e.id, "HALL1")
        for n in range(15):
            there, back = (wh1, hall1) if n % 2 == 0 else (hall1, wh1)
            movements.move(s, e.id, kind="transfer", item_id=item.id, quantity=1, from_site_id=there.id,
                           to_site_id=back.id, imeis=[handset])
    in_db(sessionmaker, shuttle)
    reply = send(KEEPER, f"串号 {handset}").reply
    assert parts_needed(reply) <= 3 and reply.endswith("…(+10)")  # 16 steps: the oldest ten left out
    assert reply.startswith(f"{handset} X100 在库 HALL1。经过(新在前): ") and " 调拨 WH1>HALL1; " in reply


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_imei_refusals(send, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
