"""How many SMS a reply needs, and how to make a long one fit.

Replies are encoded by the gateway with GSM 7-bit when every character allows it, else
UCS-2, and long ones are split 153 septets / 67 units a part without breaking an escape
or surrogate pair (docs/INTERNALS.md, gateway/text). commands/ may not import gateway/, so
the same arithmetic is repeated here (counting only, no encoding);
tests/commands/test_commands_length_agrees.py holds the two to the same answers.
"""
from __future__ import annotations

MAX_PARTS = 3
SINGLE_GSM, PART_GSM = 160, 153
SINGLE_UCS2, PART_UCS2 = 70, 67

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


GSM_ALL = GSM_BASIC | GSM_EXTENSION


def is_gsm(text: str) -> bool:
    """True when the whole text can go as GSM 7-bit."""
    return GSM_ALL.issuperset(text)


def _units(text: str) -> tuple[list[int], int, int]:
    """Cost of each character in the chosen coding, and that coding's part sizes."""
    if is_gsm(text):
        return [2 if ch in GSM_EXTENSION else 1 for ch in text], SINGLE_GSM, PART_GSM
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], SINGLE_UCS2, PART_UCS2


def _plain_parts(text: str) -> int | None:
    """The parts of a text whose every character costs one unit (no GSM escape, no
    surrogate pair: most replies), counted without a per-character list; None when
    some character costs two (then `parts_needed` counts them one by one)."""
    if GSM_ALL.issuperset(text):
        if GSM_EXTENSION.isdisjoint(text):
            single, part = SINGLE_GSM, PART_GSM
        else:
            return None
    elif not text or max(text) <= "\uffff":
        single, part = SINGLE_UCS2, PART_UCS2
    else:
        return None
    length = len(text)
    return 1 if length <= single else -(-length // part)


def parts_needed(text: str) -> int:
    """Number of SMS the text takes (1 for the empty text)."""
    plain = _plain_parts(text)
    if plain is not None:
        return plain
    costs, single, part = _units(text)
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def fits(text: str, max_parts: int = MAX_PARTS) -> bool:
    return parts_needed(text) <= max_parts


def ellipsis_for(text: str) -> str:
    """'…' would force UCS-2 on a GSM text (halving its room), so GSM texts get '...'."""
    return "..." if is_gsm(text) else "…"


def clip(text: str, max_parts: int = MAX_PARTS) -> str:
    """The text, cut short with an ellipsis if it needs more than ``max_parts`` SMS."""
    return clip_keeping(text, "", max_parts)


def clip_keeping(text: str, tail: str, max_parts: int = MAX_PARTS) -> str:
    """``text + tail`` in ``max_parts`` SMS: ``text`` cut short with an ellipsis, ``tail``
    (a link) kept whole — unless the tail alone is too long, then the whole is clipped."""
    full = text + tail
    if fits(full, max_parts):
        return full
    mark = ellipsis_for(full)
    if tail and not fits(mark + tail, max_parts):
        return clip(full, max_parts)
    low, high = 0, len(text)
    while low < high:  # longest prefix that fits with the mark and the tail
        mid = (low + high + 1) // 2
        if fits(text[:mid] + mark + tail, max_parts):
            low = mid
        else:
            high = mid - 1
    return text[:low] + mark + tail


def clip_word(word: str, limit: int = 20) -> str:
    """A user's word echoed back in a reply, so a long message cannot crowd out the reply."""
    return word if len(word) <= limit else word[:limit] + ellipsis_for(word)


def join_fitting(
    head: str, items: list[str], sep: str = ", ", tail: str = "", max_parts: int = MAX_PARTS,
    more: int = 0,
) -> str:
    """``head`` + as many ``items`` as fit + ``tail``; the rest become '…(+N)'. ``more``
    counts further items the caller left out (a long list need not be formatted whole)."""
    full = head + sep.join(items) + tail
    if fits(full, max_parts) and not more:
        return full
    mark = ellipsis_for(full)
    for keep in range(len(items) if more else len(items) - 1, -1, -1):
        shown = items[:keep] + [f"{mark}(+{len(items) - keep + more})"]
        candidate = head + sep.join(shown) + tail
        if fits(candidate, max_parts):
            return candidate
    return clip(head + tail, max_parts)
