"""A reply whose every character costs one unit (no GSM escape, no surrogate pair: most
replies) is counted without a per-character list, and to the same number of SMS as the
character-by-character count."""
from __future__ import annotations

from commands import length
from commands.length import GSM_EXTENSION, clip, fits, is_gsm, parts_needed


def counted_by_character(text: str) -> int:
    """The per-character count (independent of `commands.length`'s shortcuts)."""
    if all(ch in length.GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        costs, single, part = [2 if ch in GSM_EXTENSION else 1 for ch in text], 160, 153
    else:
        costs, single, part = [2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


TEXTS = [""] + [ch * n for ch in ("a", "库", "€", "😀", "é") for n in (1, 69, 70, 71, 80, 134, 135, 153, 159,
                                                                    160, 161, 306, 307, 459, 460)] + [
    "a" * 152 + "€", "库" * 66 + "😀", "X100 Huawei Mate X100: HALL1 12", "订单O-0001已提交,待审批。" * 9,
]


def test_the_plain_count_agrees_with_the_character_count():
    for text in TEXTS:
        assert parts_needed(text) == counted_by_character(text), text
        assert is_gsm(text) == all(ch in length.GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def test_a_plain_reply_builds_no_per_character_list(monkeypatch):
    def refused(_text):
        raise AssertionError("a plain text was costed character by character")
    monkeypatch.setattr(length, "_units", refused)
    for text in ("X100 Huawei Mate X100: HALL1 12", "库存 X100: 中心仓库 250, 一厅 12" * 5, "a" * 500, ""):
        parts_needed(text)
        fits(text)
        clip(text)
