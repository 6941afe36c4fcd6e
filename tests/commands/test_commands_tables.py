"""The per-command tables, checked as a whole (no database): every command has its test
module; its ALIASES run it under every word that names it (English, pinyin, Chinese,
extras), in lower case and full width, with every separator; the ERRORS tables together
cover every refusal in the catalogue; and every refusal says what to send instead."""
from __future__ import annotations

import importlib

import pytest

import commands
from commands.normalize import fold
from tests.commands.cmd_tables import INSTRUCTIONS, UNREACHABLE, all_refusals, catalogue

MODULES = [f"tests.commands.test_cmd_{command.name.lower()}" for command in commands.REGISTRY.commands]
SEPARATORS = (",", "，", "#＃", "+＋")
FULL_WIDTH = {chr(c) for c in range(0xFF01, 0xFF5F)} | {"\u3000"}


def tables(name: str):
    module = importlib.import_module(name)
    command = commands.REGISTRY.lookup(module.COMMAND)
    aliases = [text.format(i="861234560000001", id="1") for text in module.ALIASES]
    return module, command, aliases


@pytest.mark.parametrize("name", MODULES)
def test_every_command_has_its_test_module(name):
    module, command, _aliases = tables(name)
    assert command is not None and name.endswith(command.name.lower())
    assert module.ALIASES and module.ERRORS


@pytest.mark.parametrize("name", MODULES)
def test_the_aliases_table_names_the_command_by_every_word_in_every_form(name):
    _module, command, aliases = tables(name)
    parsed = [commands.REGISTRY.parse(text) for text in aliases]
    assert all(p.command is command for p in parsed), [t for t, p in zip(aliases, parsed) if p.command is not command]
    typed = {fold(p.word) for p in parsed}
    assert {fold(word) for word in command.words} <= typed
    assert command.name.lower() in {p.word for p in parsed}, "a keyword typed in lower case"
    assert any(FULL_WIDTH & set(text) for text in aliases), "a full-width spelling"
    if command.min_args:
        for separators in SEPARATORS:
            assert any(set(separators) & set(text) for text in aliases), f"separator {separators}"


def covered_refusals() -> set[str]:
    keys = set()
    for name in [*MODULES, "tests.commands.test_cmd_safety", "tests.commands.test_commands_handle"]:
        module = importlib.import_module(name)
        for row in [*getattr(module, "ERRORS", ()), *getattr(module, "GENERAL_ERRORS", ())]:
            keys.add(row[-2])
    return keys


# Refusals pinned by a test of their own rather than a table row (they need a set-up).
OWN_TESTS = {
    "stock.ambiguous": "tests.commands.test_cmd_stock:test_a_query_naming_two_items_asks_for_the_sku",
    "item.ambiguous": "tests.commands.test_cmd_order:test_a_query_naming_two_items_asks_for_the_sku",
    "order.too_large": "tests.commands.test_cmd_order:test_an_order_beyond_the_largest_total_asks_for_smaller_ones",
    "approval.self": "tests.commands.test_cmd_approve:test_an_approver_cannot_approve_their_own_order",
    "order.illegal_transition": "tests.commands.test_cmd_approve:test_a_decided_document_cannot_be_approved_again",
    "approve.pin_needed": "tests.commands.test_cmd_approve:test_a_large_approval_without_the_right_pin_is_refused",
    "approve.bad_pin": "tests.commands.test_cmd_approve:test_a_large_approval_without_the_right_pin_is_refused",
    "approve.no_pin": "tests.commands.test_cmd_approve:test_an_approver_without_a_pin_is_told_to_set_one",
    "auth.locked": "tests.commands.test_cmd_service:test_five_wrong_passwords_lock_the_admin_out",
    "service.not_open": "tests.commands.test_cmd_service:test_closing_a_closed_module_says_how_to_open_it",
    "task.not_open": "tests.commands.test_cmd_done:test_a_finished_task_cannot_be_done_again",
    "item.not_found": "tests.commands.test_cmd_stock:test_an_item_the_partner_lacks_is_no_such_item",
    "wrong_number": "tests.commands.test_commands_handle:test_wrong_numbers_are_told_in_both_languages",
    "enterprise_closed": "tests.commands.test_commands_handle:test_a_closed_enterprise_says_so",
    "site.not_found": None,  # the runner's fallback: commands naming a site answer stock.site_not_found
}


def test_the_tables_cover_every_refusal_in_the_catalogue():
    missing = all_refusals() - covered_refusals() - set(UNREACHABLE) - set(OWN_TESTS)
    assert missing == set()


@pytest.mark.parametrize("key, test", [(k, t) for k, t in OWN_TESTS.items() if t])
def test_refusals_with_their_own_test_have_it(key, test):
    module, function = test.split(":")
    assert callable(getattr(importlib.import_module(module), function)), key


@pytest.mark.parametrize("key", sorted(all_refusals() - {"usage"}))
def test_every_refusal_says_what_to_send_instead(key):
    for lang, text in catalogue(key).items():
        assert any(marker in text for marker in INSTRUCTIONS[lang]), (key, lang, text)


@pytest.mark.parametrize("command", commands.REGISTRY.commands, ids=lambda c: c.name)
def test_every_usage_shows_what_to_send(command):
    """A bare keyword (or wrong arguments) answers with the usage: it must show an example
    or what to reply, in both languages."""
    for lang, text in command.usage.items():
        assert any(marker in text for marker in (*INSTRUCTIONS[lang], "E.g.")), (command.name, lang, text)
