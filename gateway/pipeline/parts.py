"""Texts as outbox parts: the one place replies and notifications are split, so both
number their concatenated parts the same way (an 8-bit reference per sender of long
texts, parts counted from 1)."""
from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable

from erpcore.outbox import OutboxPart

log = logging.getLogger(__name__)


def default_split():
    from gateway.text import split

    return split


class ConcatRefs:
    """The reference of the next long text; starts at random so restarts rarely reuse one.
    Safe to use from several db threads at once (itertools.count steps atomically)."""

    def __init__(self, rng: random.Random | None = None):
        self._refs = itertools.count((rng or random.Random()).randrange(256) + 1)

    def next(self) -> int:
        return next(self._refs) % 256


def outbox_parts(
    text: str, sender: str, recipient: str, split: Callable, refs: ConcatRefs, *,
    fallback: str, what: str, **common,
) -> list[OutboxPart]:
    """`text` split into outbox parts; when it cannot be split, `fallback` is sent instead
    (logged as about `what`). `common` goes to every part (inbox_id, link)."""
    try:
        coding, texts = split(text)
    except ValueError:
        log.exception("%s cannot be split; sending %r instead", what, fallback)
        coding, texts = split(fallback)
    common.update(sender=sender, recipient=recipient, coding=coding)
    if len(texts) == 1:
        return [OutboxPart(text=texts[0], **common)]
    ref = refs.next()
    return [
        OutboxPart(text=part, concat_ref=ref, concat_total=len(texts), concat_number=number,
                   **common)
        for number, part in enumerate(texts, start=1)
    ]
