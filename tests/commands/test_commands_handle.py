"""commands.handle end to end over the database: routing, senders, parsing, replies.

Every test runs on SQLite and, with MERP_TEST_MYSQL_URL set, on MariaDB."""
from __future__ import annotations

import pytest

from commands.length import parts_needed
from erpcore.demo import DEMO_SERVICE_CODE

CLERK_ZH = "13800000001"  # demo clerk at HALL1, zh
MANAGER_EN = "13800000002"  # demo manager, no site, en
STOREKEEPER_ZH = "13800000003"  # demo storekeeper at WH1, zh
OTHER_USER = "13900000099"  # OTHER's user (see conftest), OTHER's language: en
DEMO_NUMBER = DEMO_SERVICE_CODE + "01"
OTHER_NUMBER = DEMO_SERVICE_CODE + "02"

X100_AT_HALL1_ZH = "X100 华为Mate X100 库存: 一厅 12"


@pytest.mark.parametrize(
    "text",
    ["STOCK X100", "kc x100", "库存 X100", "库存X100", "ＳＴＯＣＫ　Ｘ１００", "KC,X100", "KC，X100",
     "KC#X100+HALL1", "STOCK MX100-AL00", "KC 86123456", "Kc X100 hall1"],
)
def test_every_alias_and_spelling_of_stock_answers_the_same(send, text):
    outcome = send(CLERK_ZH, text)
    assert (outcome.reply, outcome.command, outcome.ok) == (X100_AT_HALL1_ZH, "STOCK", True)
    assert outcome.enterprise_id is not None and outcome.user_id is not None


@pytest.mark.parametrize(
    "sender, text, reply",
    [
        (MANAGER_EN, "STOCK X100 HALL1", "X100 Huawei Mate X100: HALL1 12"),
        (MANAGER_EN, "STOCK X100", "X100: WH1 250, HALL1 12, HALL2 0"),
        (MANAGER_EN, "KC N200", "N200: WH1 80, HALL2 7, HALL1 5"),
        (STOREKEEPER_ZH, "库存 X100", "X100 华为Mate X100 库存: 中心仓库 250"),
        (STOREKEEPER_ZH, "库存 X100 一厅", X100_AT_HALL1_ZH),
        (STOREKEEPER_ZH, "库存 C300 HALL2", "C300 中兴畅享C300 库存: 二厅 0"),
    ],
)
def test_stock_replies(send, sender, text, reply):
    assert send(sender, text).reply == reply


@pytest.mark.parametrize(
    "sender, text, expected",
    [
        (CLERK_ZH, "HELP", ["指令:", "库存 ", "帮助 "]),
        (CLERK_ZH, "?", ["指令:", "库存"]),
        (MANAGER_EN, "HELP", ["Commands:", "STOCK ", "HELP "]),
        (MANAGER_EN, "帮助", ["Commands:", "STOCK"]),
        (CLERK_ZH, "HELP STOCK", ["库存 货品 [网点]", "例: 库存 X100"]),
        (CLERK_ZH, "帮助库存", ["库存 货品 [网点]"]),
        (MANAGER_EN, "HELP KC", ["STOCK <item> [site]", "E.g. STOCK X100"]),
        (MANAGER_EN, "? help", ["HELP [command]"]),
    ],
)
def test_help_lists_commands_or_one_usage_in_the_users_language(send, sender, text, expected):
    outcome = send(sender, text)
    assert outcome.ok and outcome.command == "HELP"
    for fragment in expected:
        assert fragment in outcome.reply


@pytest.mark.parametrize("sender", [CLERK_ZH, MANAGER_EN])
def test_help_lists_every_registered_command_in_one_sms(send, sender):
    import commands

    reply = send(sender, "HELP").reply
    for command in commands.REGISTRY.commands:
        assert command.label("en" if sender == MANAGER_EN else "zh") in reply
    assert "…" not in reply and "..." not in reply and parts_needed(reply) == 1


def test_help_for_an_unknown_command_suggests_one(send):
    outcome = send(MANAGER_EN, "HELP STOK")
    assert not outcome.ok and "STOK" in outcome.reply and "HELP STOCK" in outcome.reply


@pytest.mark.parametrize(
    "sender, text, fragments",
    [
        (MANAGER_EN, "STOK X100", ["Unknown command STOK", "Did you mean STOCK?", "HELP"]),
        (CLERK_ZH, "STOK X100", ["无法识别指令 STOK", "STOCK", "帮助"]),
        (MANAGER_EN, "XYZZY", ["Unknown command XYZZY", "Send HELP"]),
        (MANAGER_EN, "ORDR X100 5", ["Unknown command ORDR", "Did you mean ORDER?"]),
        (MANAGER_EN, "", ["Empty message", "HELP"]),
        (CLERK_ZH, " ,, ", ["帮助"]),
    ],
)
def test_unknown_or_empty_commands_say_what_to_send(send, sender, text, fragments):
    outcome = send(sender, text)
    assert not outcome.ok and outcome.command is None and outcome.user_id is not None
    for fragment in fragments:
        assert fragment in outcome.reply
    if "XYZZY" in text:
        assert "Did you mean" not in outcome.reply


@pytest.mark.parametrize(
    "sender, text, fragments",
    [
        (CLERK_ZH, "KC", ["用法: 库存 货品 [网点]"]),
        (MANAGER_EN, "KC", ["Usage: STOCK <item> [site]"]),
        (MANAGER_EN, "STOCK X100 HALL1 extra", ["Usage: STOCK"]),
        (MANAGER_EN, "HELP STOCK more", ["Usage: HELP"]),
    ],
)
def test_missing_or_extra_arguments_get_the_usage(send, sender, text, fragments):
    outcome = send(sender, text)
    assert not outcome.ok and outcome.command is not None
    for fragment in fragments:
        assert fragment in outcome.reply


@pytest.mark.parametrize(
    "sender, text, fragments",
    [
        (MANAGER_EN, "STOCK Q1", ["No item Q1", "SKU, model or TAC", "STOCK X100"]),
        (CLERK_ZH, "库存 Q1", ["没有货品 Q1", "库存 X100"]),
        (MANAGER_EN, "STOCK X100 HALL9", ["No site HALL9", "WH1, HALL1, HALL2"]),
        (CLERK_ZH, "库存 X100 三厅", ["没有网点 三厅", "中心仓库, 一厅, 二厅"]),
    ],
)
def test_unknown_items_and_sites_are_named_with_what_exists(send, sender, text, fragments):
    outcome = send(sender, text)
    assert not outcome.ok and outcome.command == "STOCK"
    for fragment in fragments:
        assert fragment in outcome.reply


def test_unknown_sender_is_answered_in_both_languages(send):
    outcome = send("13999999999", "STOCK X100")
    assert not outcome.ok and outcome.user_id is None and outcome.enterprise_id is not None
    assert "未开通" in outcome.reply and "not registered" in outcome.reply
    assert parts_needed(outcome.reply) == 1


def test_a_user_of_another_enterprise_is_unknown_here(send):
    assert "not registered" in send(OTHER_USER, "STOCK X100").reply


@pytest.mark.parametrize(
    "recipient, service_code",
    [
        ("1065799999" + "01", DEMO_SERVICE_CODE),  # another service code
        (DEMO_SERVICE_CODE, DEMO_SERVICE_CODE),  # no extension
        (DEMO_SERVICE_CODE + "77", DEMO_SERVICE_CODE),  # no enterprise there
        ("", DEMO_SERVICE_CODE),
        (DEMO_NUMBER, ""),
    ],
)
def test_wrong_numbers_are_told_in_both_languages(send, recipient, service_code):
    outcome = send(CLERK_ZH, "STOCK X100", recipient=recipient, service_code=service_code)
    assert not outcome.ok and outcome.enterprise_id is None and outcome.user_id is None
    assert "号码有误" in outcome.reply and "Wrong number" in outcome.reply
    assert parts_needed(outcome.reply) == 1


def test_a_closed_enterprise_says_so(send, sessionmaker):
    from erpcore.db import session_scope
    from erpcore.tenants import find_by_extension

    with session_scope(sessionmaker) as session:
        find_by_extension(session, "01").active = False
    outcome = send(CLERK_ZH, "STOCK X100")
    assert not outcome.ok and "停用" in outcome.reply


def test_an_inactive_user_is_treated_as_unknown(send, sessionmaker):
    from erpcore.db import session_scope
    from erpcore.tenants import find_by_extension
    from erpcore.users import find_by_msisdn

    with session_scope(sessionmaker) as session:
        find_by_msisdn(session, find_by_extension(session, "01").id, CLERK_ZH).active = False
    assert "not registered" in send(CLERK_ZH, "STOCK X100").reply


def test_tenant_isolation_same_sku_other_stock(send):
    """OTHER also has an X100 (999 at OWH) and a Z900; DEMO users see neither."""
    demo_view = send(MANAGER_EN, "STOCK X100").reply
    assert "999" not in demo_view and "OWH" not in demo_view
    assert "No item Z900" in send(MANAGER_EN, "STOCK Z900").reply
    assert "No site OWH" in send(MANAGER_EN, "STOCK X100 OWH").reply
    other_view = send(OTHER_USER, "STOCK X100", recipient=OTHER_NUMBER)
    assert other_view.reply == "X100 Other X100: OWH 999"  # OTHER's language is en
    assert other_view.enterprise_id != send(MANAGER_EN, "STOCK X100").enterprise_id


@pytest.mark.parametrize(
    "sender, text",
    [
        (MANAGER_EN, "STOCK " + "X" * 500),
        (CLERK_ZH, "库存 " + "货" * 500),
        (CLERK_ZH, "库存 X100 " + "网" * 500),
        (MANAGER_EN, "HELP " + "Z" * 400),
        (MANAGER_EN, "Q" * 1000),
        (CLERK_ZH, "查" * 1000),
    ],
)
def test_replies_to_oversized_input_still_fit_in_three_sms(send, sender, text):
    assert parts_needed(send(sender, text).reply) <= 3


def test_a_long_site_list_is_truncated_with_a_count(send, sessionmaker):
    from erpcore.db import session_scope
    from erpcore.sites import Site
    from erpcore.tenants import find_by_extension

    with session_scope(sessionmaker) as session:
        demo = find_by_extension(session, "01")
        session.add_all(
            Site(enterprise_id=demo.id, code=f"AGENT{n:03}", name=f"代理点{n:03}", kind="agent") for n in range(120)
        )
    for sender in (MANAGER_EN, CLERK_ZH):
        text = "STOCK X100" if sender == MANAGER_EN else "库存 X100 不存在"
        reply = send(sender, text).reply
        assert parts_needed(reply) <= 3 and "(+" in reply
    assert send(MANAGER_EN, "STOCK X100").reply.startswith("X100: WH1 250, HALL1 12, ")


@pytest.mark.parametrize(
    "sender, text",
    [(CLERK_ZH, "HELP"), (MANAGER_EN, "HELP"), (CLERK_ZH, "KC X100"), (MANAGER_EN, "KC X100"),
     (MANAGER_EN, "KC"), (CLERK_ZH, "STOK"), (MANAGER_EN, "HELP STOCK"), (CLERK_ZH, "帮助 库存")],
)
def test_everyday_replies_fit_in_one_sms(send, sender, text):
    assert parts_needed(send(sender, text).reply) == 1
