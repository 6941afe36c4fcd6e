""""Did you mean …": the command word closest to a mistyped one.

The registry's difflib match handles Latin keywords (``STOK`` -> STOCK) but sees ``定货``
and ``订货`` as only half alike, below its cutoff — yet a homophone for one character is
exactly the slip a pinyin input method makes. So a word that starts with as many Chinese
characters as a command's Chinese word, and differs from it in one of them, names that
command (when only one command is that close).
"""
from __future__ import annotations

from commands.normalize import fold
from commands.registry import Registry


def suggest(registry: Registry, word: str) -> str | None:
    """The command word to propose for ``word``, or None."""
    found = registry.suggest(word)
    if found is not None:
        return found
    head = _leading_chinese(fold(word))
    if len(head) < 2:
        return None
    close = [
        command.chinese for command in registry.commands
        if len(command.chinese) == len(head) and sum(a != b for a, b in zip(command.chinese, head)) == 1
    ]
    return close[0] if len(close) == 1 else None


def _leading_chinese(text: str) -> str:
    count = 0
    while count < len(text) and "\u4e00" <= text[count] <= "\u9fff":
        count += 1
    return text[:count]
