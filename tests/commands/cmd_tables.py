"""What the per-command tables share (tests/commands/test_cmd_<command>.py).

Each of those modules names its ``COMMAND`` and holds two tables: ``ALIASES`` (texts that
must all run the command: English keyword, pinyin, Chinese word, any extra alias, in
lower case, full width, glued and with every separator) and ``ERRORS`` (sender, text,
catalogue key, exact reply: every refusal the command can give). ``is_reply`` checks a
row's key against the catalogue, so a row cannot claim to cover a text it does not show;
tests/commands/test_commands_tables.py checks that the tables together cover every
command word and every refusal in the catalogue.
"""
from __future__ import annotations

import re

from commands import errors, replies

#: Catalogue messages that refuse (the rest of replies.MESSAGES answer a request).
REFUSAL_MESSAGES = frozenset({
    "wrong_number", "enterprise_closed", "unknown_sender", "empty", "unknown_command",
    "unknown_command_suggest", "usage", "stock.item_not_found", "stock.ambiguous", "stock.site_not_found",
    "approve.pin_needed", "approve.no_pin", "approve.bad_pin", "unsub.none",
})
#: Error texts no SMS can reach, and why (kept in the catalogue for erpcore's sake).
UNREACHABLE = {
    "order.not_requester": "an SMS order is submitted by the one who creates it, in the same command",
}

#: What an error reply must contain: what to send (or do) instead.
INSTRUCTIONS = {
    "zh": ("发", "回复", "请", "如 ", "例"),
    "en": ("Send", "send", "Reply", "e.g.", "ask your", "try again", "Check", "write"),
}


def catalogue(key: str) -> dict[str, str]:
    """The zh and en templates of a catalogue key (error code or message key)."""
    if key in errors.TEXTS:
        zh, en = errors.TEXTS[key]
        return {"zh": zh, "en": en}
    return dict(replies.MESSAGES[key])


def all_refusals() -> set[str]:
    return set(errors.TEXTS) | REFUSAL_MESSAGES


def is_reply(key: str, reply: str) -> bool:
    """True when ``reply`` is the catalogue text ``key`` (either language) filled in."""
    for template in catalogue(key).values():
        pattern = "".join(
            "(.+?)" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[a-z_]+\})", template) if part
        )
        if re.match(pattern, reply, re.DOTALL):
            return True
    return False


def unchanged(before, after) -> None:
    assert before == after, "a refusal changed something"
