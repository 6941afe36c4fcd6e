"""Receipts in the appendix B layout are read by one anchored match; anything else by the
per-field searches. Both must read any text the same way."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.text import receipts
from gateway.text.receipts import format_receipt, parse_receipt

NEVER = re.compile(r"(?!)")


def searched(text):
    """parse_receipt with the one-match path switched off: the per-field searches."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(receipts, "_CANONICAL", NEVER)
        return parse_receipt(text)


def test_a_simulator_receipt_is_read_without_the_field_searches(monkeypatch):
    text = format_receipt("1a2b3c", 1, 1, datetime(2026, 11, 22, 7, 2), datetime(2026, 11, 22, 7, 3),
                          "DELIVRD", 0, "库存 X100: 12 at WH1")
    expected = searched(text)
    monkeypatch.setattr(receipts, "_FIELDS", {key: NEVER for key in receipts._FIELDS})
    assert parse_receipt(text) == expected
    assert expected["id"] == "1a2b3c" and expected["done_date"] == datetime(2026, 11, 22, 7, 3)


VALUE = st.text(alphabet=st.sampled_from("0aZ: _-\t\xa0\x85\x1cid:stat:text:"), min_size=0, max_size=8)
KEY_CASE = st.sampled_from([str.lower, str.upper, str.title])


@settings(max_examples=500, deadline=None)
@given(st.lists(VALUE, min_size=8, max_size=8), KEY_CASE, st.text(max_size=30),
       st.sampled_from(["", " ", "  ", "\t"]))
def test_both_paths_read_any_appendix_b_like_text_the_same(values, case, tail, gap):
    keys = ["id:", "sub:", "dlvrd:", "submit date:", "done date:", "stat:", "err:", "text:"]
    text = gap.join(f"{case(key)}{value}" for key, value in zip(keys, values))
    text += tail
    assert parse_receipt(text) == searched(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=160))
def test_both_paths_read_any_text_the_same(text):
    assert parse_receipt(text) == searched(text)
