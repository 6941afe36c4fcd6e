"""HELP (BZ / 帮助 / ?): the list of commands in one SMS, or one command's usage, in the
user's language; an unknown command word gets "did you mean"."""
from __future__ import annotations

import pytest

import commands
from commands.length import parts_needed
from tests.commands.cmd_helpers import CLERK, MANAGER
from tests.commands.cmd_tables import is_reply

COMMAND = "HELP"
LIST_ZH = "指令: 帮助 库存 订货 待办 同意 驳回 查询 订阅 退订 串号 任务 完成 服务。发 帮助 指令 查看用法。"
ALIASES = ["HELP", "help", "Help", "BZ", "bz", "帮助", "?", "？", "ＨＥＬＰ", "ｂｚ　", " 帮助 ,"]
ERRORS = [
    (MANAGER, "HELP STOK", "unknown_command_suggest",
     "Unknown command STOK. Did you mean HELP STOCK? Send HELP for the commands."),
    (CLERK, "帮助 定货", "unknown_command_suggest", "无法识别指令 定货。您是要发 帮助 订货 吗? 发 帮助 查看指令。"),
    (MANAGER, "HELP XYZZY", "unknown_command", "Unknown command XYZZY. Send HELP for the commands."),
    (MANAGER, "HELP STOCK more", "usage",
     "Usage: HELP [command] (or ? / BZ): lists the commands, or one command's usage. E.g. HELP STOCK"),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_lists_the_commands_in_one_sms(send, text):
    outcome = send(CLERK, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (True, "HELP", LIST_ZH)
    assert parts_needed(outcome.reply) == 1


@pytest.mark.parametrize("sender, lang", [(CLERK, "zh"), (MANAGER, "en")])
def test_the_list_names_every_registered_command_in_the_users_language(send, sender, lang):
    reply = send(sender, "HELP").reply
    labels = [command.label(lang) for command in commands.REGISTRY.commands]
    assert all(label in reply for label in labels)
    assert "…" not in reply and "..." not in reply and parts_needed(reply) == 1


@pytest.mark.parametrize("sender, text, lang, name", [
    (CLERK, "HELP STOCK", "zh", "STOCK"), (CLERK, "帮助库存", "zh", "STOCK"), (CLERK, "? kc", "zh", "STOCK"),
    (MANAGER, "HELP KC", "en", "STOCK"), (MANAGER, "? help", "en", "HELP"), (MANAGER, "bz y", "en", "APPROVE"),
    (MANAGER, "HELP 服务", "en", "SERVICE"), (CLERK, "?订货", "zh", "ORDER"),
])
def test_help_with_a_command_word_gives_that_commands_usage(send, sender, text, lang, name):
    outcome = send(sender, text)
    assert outcome.ok and outcome.reply == commands.REGISTRY.lookup(name).usage[lang]


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_help_refusals_say_what_to_send(send, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
