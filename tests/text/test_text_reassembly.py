"""Reassembling concatenated messages for simulated handsets, timed by task.Clock."""
from __future__ import annotations

import ast
from pathlib import Path

from twisted.internet import task

from gateway.messages import ConcatInfo
from gateway.text import Reassembler


def _parts(ref=7, total=3):
    return [ConcatInfo(ref, total, n) for n in range(1, total + 1)]


def test_parts_in_order_give_the_whole_text_on_the_last():
    r = Reassembler(task.Clock())
    p1, p2, p3 = _parts()
    assert r.add("861", p1, "ab") is None
    assert r.add("861", p2, "cd") is None
    assert r.add("861", p3, "ef") == "abcdef"
    assert len(r) == 0


def test_parts_out_of_order_are_joined_by_number():
    r = Reassembler(task.Clock())
    p1, p2, p3 = _parts()
    assert r.add("861", p3, "ef") is None
    assert r.add("861", p1, "ab") is None
    assert r.add("861", p2, "cd") == "abcdef"


def test_a_duplicate_part_is_ignored_and_the_first_copy_wins():
    r = Reassembler(task.Clock())
    p1, p2 = _parts(total=2)
    assert r.add("861", p1, "ab") is None
    assert r.add("861", p1, "XX") is None
    assert r.add("861", p2, "cd") == "abcd"


def test_same_reference_from_other_senders_or_totals_does_not_mix():
    r = Reassembler(task.Clock())
    assert r.add("861", ConcatInfo(7, 2, 1), "a") is None
    assert r.add("862", ConcatInfo(7, 2, 2), "X") is None
    assert r.add("861", ConcatInfo(7, 3, 2), "Y") is None
    assert r.add("861", ConcatInfo(7, 2, 2), "b") == "ab"
    assert len(r) == 2


def test_a_message_without_concatenation_or_of_one_part_is_whole():
    r = Reassembler(task.Clock())
    assert r.add("861", None, "hi") == "hi"
    assert r.add("861", ConcatInfo(1, 1, 1), "yo") == "yo"


def test_incomplete_messages_expire_after_the_timeout():
    clock = task.Clock()
    r = Reassembler(clock, timeout=60)
    p1, p2 = _parts(total=2)
    r.add("861", p1, "ab")
    clock.advance(59)
    assert r.expire() == []
    clock.advance(1)
    assert r.expire() == [("861", 7, 2)]
    assert len(r) == 0
    assert r.add("861", p2, "cd") is None  # its sibling is gone; this starts afresh


def test_expiry_counts_from_the_first_part_and_spares_younger_messages():
    clock = task.Clock()
    r = Reassembler(clock, timeout=60)
    r.add("861", ConcatInfo(1, 2, 1), "a")
    clock.advance(30)
    r.add("862", ConcatInfo(2, 2, 1), "b")
    r.add("861", ConcatInfo(1, 3, 1), "c")
    clock.advance(30)
    assert r.expire() == [("861", 1, 2)]
    assert len(r) == 2


def test_text_package_imports_no_twisted():
    """gateway/text is pure: the clock is passed in, never imported."""
    root = Path(__file__).resolve().parents[2] / "gateway" / "text"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "twisted" for n in names), path.name
