"""The registry: every alias finds its command; Chinese words may touch their argument."""
from __future__ import annotations

import pytest

from commands import REGISTRY
from commands.registry import Command, Registry, Reply


@pytest.mark.parametrize(
    "text, command, args",
    [
        ("STOCK X100", "STOCK", ["X100"]),
        ("stock x100", "STOCK", ["x100"]),
        ("KC X100", "STOCK", ["X100"]),
        ("kc x100", "STOCK", ["x100"]),
        ("库存 X100", "STOCK", ["X100"]),
        ("库存X100", "STOCK", ["X100"]),
        ("库存X100 一厅", "STOCK", ["X100", "一厅"]),
        ("ＳＴＯＣＫ　Ｘ１００", "STOCK", ["X100"]),
        ("KC,X100", "STOCK", ["X100"]),
        ("KC#X100+HALL1", "STOCK", ["X100", "HALL1"]),
        ("HELP", "HELP", []),
        ("?", "HELP", []),
        ("？", "HELP", []),
        ("?KC", "HELP", ["KC"]),
        ("BZ stock", "HELP", ["stock"]),
        ("帮助", "HELP", []),
        ("帮助库存", "HELP", ["库存"]),
    ],
)
def test_parse_finds_every_alias(text, command, args):
    parsed = REGISTRY.parse(text)
    assert (parsed.command.name, parsed.args) == (command, args)


@pytest.mark.parametrize("text", ["KCX100", "STOCKX100", "STOK X100", "ORDERX100 5", "DHX100", "YES 1001"])
def test_words_that_name_no_command(text):
    assert REGISTRY.parse(text).command is None


def test_suggestions_come_from_every_alias():
    assert REGISTRY.suggest("STOK") == "STOCK"
    assert REGISTRY.suggest("hlep") == "HELP"
    assert REGISTRY.suggest("QQQQQQ") is None


def test_only_existing_commands_are_registered():
    """HELP lists the registry, so commands not written yet must not be in it."""
    assert [command.name for command in REGISTRY.commands] == [
        "HELP", "STOCK", "ORDER", "PENDING", "APPROVE", "REJECT", "STATUS", "SUB", "UNSUB", "IMEI",
        "TASK", "DONE", "SERVICE",
    ]


def test_an_alias_cannot_name_two_commands():
    def handler(ctx, args):
        return Reply("")

    one = Command("ONE", "YI", "一", handler, {"zh": "", "en": ""}, {"zh": "", "en": ""})
    clash = Command("TWO", "yi", "二", handler, {"zh": "", "en": ""}, {"zh": "", "en": ""})
    with pytest.raises(ValueError):
        Registry([one, clash])
