"""UCS-2 as SMS centres really send it: UTF-16-BE, with surrogate pairs for characters
outside the BMP. Decoding never raises: a handset's truncated part must still be read."""
from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def encode(text: str) -> bytes:
    """Text to UTF-16-BE; a lone surrogate in the text is written as U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-16-be")


def decode(data: bytes) -> str:
    """UTF-16-BE to text; a dangling byte or a lone surrogate becomes U+FFFD."""
    return bytes(data).decode("utf-16-be", errors="replace")


def code_units(text: str) -> int:
    """UTF-16 code units the text takes (2 for characters outside the BMP)."""
    return sum(char_units(ch) for ch in text)


def char_units(ch: str) -> int:
    """UTF-16 code units of one character."""
    return 2 if ord(ch) > 0xFFFF else 1
