"""commands.handle before any one command runs: routing to the enterprise, who is asking,
parsing, and the refusals common to all (wrong number, unknown sender, closed company,
empty or unknown text with "did you mean"). Per-command behaviour: test_cmd_<command>.py.

Every test runs on SQLite and, with MERP_TEST_MYSQL_URL set, on MariaDB."""
from __future__ import annotations

import pytest

from commands.length import parts_needed
from erpcore.demo import DEMO_SERVICE_CODE
from tests.commands.cmd_helpers import CLERK, MANAGER, OTHER
from tests.commands.cmd_tables import is_reply

DEMO_NUMBER = DEMO_SERVICE_CODE + "01"
UNBOUND = "13999999999"
WRONG_NUMBER = "号码有误,请发到企业的服务号码。 Wrong number: send to your company's service number."
UNKNOWN_SENDER = "您的号码未开通本服务,请联系管理员。 Number not registered; ask your admin."

#: (sender, text, catalogue key, reply) — refusals before any command runs.
GENERAL_ERRORS = [
    (UNBOUND, "STOCK X100", "unknown_sender", UNKNOWN_SENDER),
    (OTHER, "STOCK X100", "unknown_sender", UNKNOWN_SENDER),  # a user of another enterprise
    (MANAGER, "STOK X100", "unknown_command_suggest",
     "Unknown command STOK. Did you mean STOCK? Send HELP for the commands."),
    (CLERK, "STOK X100", "unknown_command_suggest", "无法识别指令 STOK。您是要发 STOCK 吗? 发 帮助 查看指令。"),
    (MANAGER, "ORDR X100 5", "unknown_command_suggest",
     "Unknown command ORDR. Did you mean ORDER? Send HELP for the commands."),
    (CLERK, "定货 X100 2", "unknown_command_suggest",  # a homophone from the pinyin input method
     "无法识别指令 定货。您是要发 订货 吗? 发 帮助 查看指令。"),
    (CLERK, "库村X100", "unknown_command_suggest", "无法识别指令 库村X100。您是要发 库存 吗? 发 帮助 查看指令。"),
    (CLERK, "代办", "unknown_command_suggest", "无法识别指令 代办。您是要发 待办 吗? 发 帮助 查看指令。"),
    (MANAGER, "XYZZY", "unknown_command", "Unknown command XYZZY. Send HELP for the commands."),
    (CLERK, "你好", "unknown_command", "无法识别指令 你好。发 帮助 查看指令。"),
    (MANAGER, "", "empty", "Empty message. Send HELP for the commands."),
    (CLERK, " ,, ＃ ", "empty", "请发送指令,发 帮助 查看指令。"),
]


@pytest.mark.parametrize("sender, text, key, reply", GENERAL_ERRORS)
def test_general_refusals_say_what_to_send(send, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (False, None, reply) and is_reply(key, reply)
    assert parts_needed(reply) == 1


@pytest.mark.parametrize("sender, text", [(MANAGER, "STOK X100"), (MANAGER, "XYZZY"), (CLERK, "定货 X100 2")])
def test_an_unknown_command_from_a_user_is_still_attributed_to_them(send, sender, text):
    outcome = send(sender, text)
    assert outcome.user_id is not None and outcome.enterprise_id is not None


def test_an_unknown_sender_is_answered_in_both_languages_with_no_user(send):
    outcome = send(UNBOUND, "STOCK X100")
    assert outcome.user_id is None and outcome.enterprise_id is not None


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
    outcome = send(CLERK, "STOCK X100", recipient=recipient, service_code=service_code)
    assert (outcome.ok, outcome.enterprise_id, outcome.user_id, outcome.reply) == (False, None, None, WRONG_NUMBER)
    assert is_reply("wrong_number", outcome.reply) and parts_needed(outcome.reply) == 1


def test_a_closed_enterprise_says_so(send, sessionmaker):
    from erpcore.db import session_scope
    from erpcore.tenants import find_by_extension

    with session_scope(sessionmaker) as session:
        find_by_extension(session, "01").active = False
    outcome = send(CLERK, "STOCK X100")
    assert (outcome.ok, outcome.reply) == (False, "该企业的短信服务已停用,请联系管理员。")
    assert is_reply("enterprise_closed", outcome.reply)


def test_an_inactive_user_is_treated_as_unknown(send, sessionmaker):
    from erpcore.db import session_scope
    from erpcore.tenants import find_by_extension
    from erpcore.users import find_by_msisdn

    with session_scope(sessionmaker) as session:
        find_by_msisdn(session, find_by_extension(session, "01").id, CLERK).active = False
    assert send(CLERK, "STOCK X100").reply == UNKNOWN_SENDER


@pytest.mark.parametrize(
    "sender, text",
    [
        (MANAGER, "STOCK " + "X" * 500),
        (CLERK, "库存 " + "货" * 500),
        (CLERK, "库存 X100 " + "网" * 500),
        (MANAGER, "HELP " + "Z" * 400),
        (MANAGER, "Q" * 1000),
        (CLERK, "查" * 1000),
        (MANAGER, "N 1001 " + "too dear " * 200),
        (CLERK, "DY " + "Ｘ" * 600),
    ],
)
def test_replies_to_oversized_input_still_fit_in_three_sms(send, sender, text):
    assert parts_needed(send(sender, text).reply) <= 3


@pytest.mark.parametrize(
    "sender, text",
    [(CLERK, "HELP"), (MANAGER, "HELP"), (CLERK, "KC X100"), (MANAGER, "KC X100"),
     (MANAGER, "KC"), (CLERK, "STOK"), (MANAGER, "HELP STOCK"), (CLERK, "帮助 库存"), (CLERK, "DH X100 2"),
     (CLERK, "待办"), (MANAGER, "PENDING"), (CLERK, "RW")],
)
def test_everyday_replies_fit_in_one_sms(send, sender, text):
    assert parts_needed(send(sender, text).reply) == 1
