"""Turns what a handset typed into a keyword and arguments.

Phones in China often send full-width letters, digits and punctuation (``ＳＴＯＣＫ　Ｘ１００``,
``，``), and people separate words with whatever is at hand. NFKC folds full-width forms
(including the ideographic space U+3000) to their ASCII twins; then spaces, ``,``, ``#``
and ``+`` (after folding, so ``，`` ``＃`` ``＋`` too), single or repeated, split arguments.
Arguments keep their case (a reason or a note is free text); keywords compare folded.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SEPARATORS = re.compile(r"[\s,#+]+")


def normalize_width(text: str) -> str:
    """Full-width to half-width and ideographic space to space (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip()


@lru_cache(maxsize=1024)
def fold(word: str) -> str:
    """The form keywords are compared in: half-width and case-folded (remembered: a
    batch looks up the same few keywords again and again)."""
    return normalize_width(word).casefold()


def split_args(text: str) -> list[str]:
    """The words of a message: width-normalised, split on any run of separators."""
    return [word for word in SEPARATORS.split(normalize_width(text)) if word]
