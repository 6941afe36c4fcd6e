"""Delivery-receipt text per SMPP 3.4 appendix B, and matching ids in hex or decimal."""
from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.text.receipts import format_receipt, parse_receipt

# The appendix B layout, filled in by hand:
# id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
# stat:DDDDDDD err:E Text: . . . . . . . . .
APPENDIX_B = (
    "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 "
    "stat:DELIVRD err:000 Text:Order X100 qty 5 app"
)


def test_format_follows_the_appendix_b_layout():
    assert format_receipt(
        "0123456789", 1, 1, datetime(2008, 9, 1, 11, 30), datetime(2008, 9, 1, 11, 31),
        "DELIVRD", 0, "Order X100 qty 5 approved",
    ) == APPENDIX_B


def test_format_keeps_counts_given_as_strings():
    out = format_receipt("a", "001", "000", datetime(2024, 1, 2), datetime(2024, 1, 2),
                         "UNDELIV", "0x45", "")
    assert "sub:001 dlvrd:000" in out and "err:0x45 Text:" in out


def test_parse_reads_the_appendix_b_example():
    assert parse_receipt(APPENDIX_B) == {
        "id": "0123456789", "sub": "001", "dlvrd": "001",
        "submit_date": datetime(2008, 9, 1, 11, 30), "done_date": datetime(2008, 9, 1, 11, 31),
        "stat": "DELIVRD", "err": "000", "text": "Order X100 qty 5 app",
    }


def test_parse_is_tolerant_of_case_lowercase_text_and_seconds_in_dates():
    r = parse_receipt("ID:7B SUB:001 DLVRD:001 SUBMIT DATE:240102030405 "
                      "DONE DATE:2401020304 STAT:delivrd ERR:000 text:hi")
    assert r["id"] == "7B"
    assert r["submit_date"] == datetime(2024, 1, 2, 3, 4, 5)
    assert r["stat"] == "DELIVRD"
    assert r["text"] == "hi"


def test_parse_gives_none_for_missing_or_invalid_fields():
    r = parse_receipt("id:abc stat:EXPIRED submit date:9913999999")
    assert r["id"] == "abc" and r["stat"] == "EXPIRED"
    assert r["sub"] is None and r["err"] is None and r["text"] is None
    assert r["submit_date"] is None and r["done_date"] is None


def test_fields_inside_the_quoted_text_are_not_read():
    r = parse_receipt("id:1 stat:DELIVRD err:000 text:id:2 stat:REJECTD")
    assert r["id"] == "1" and r["stat"] == "DELIVRD"
    assert r["text"] == "id:2 stat:REJECTD"


def test_ordinary_messages_are_not_receipts():
    assert parse_receipt("ORDER X100 5") is None
    assert parse_receipt("") is None
    assert parse_receipt("id:5 but no state") is None


def test_parse_accepts_bytes():
    assert parse_receipt(APPENDIX_B.encode())["id"] == "0123456789"


@given(st.one_of(st.text(), st.binary()))
def test_parse_of_anything_never_raises(data):
    result = parse_receipt(data)
    assert result is None or isinstance(result, dict)


@given(
    st.text(alphabet="0123456789abcdefABCDEF-", min_size=1, max_size=20),
    st.integers(0, 999), st.integers(0, 999),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["DELIVRD", "EXPIRED", "UNDELIV", "REJECTD", "ENROUTE"]),
    st.integers(0, 999), st.text(max_size=30),
)
def test_format_then_parse_round_trips(msg_id, sub, dlvrd, when, stat, err, body):
    r = parse_receipt(format_receipt(msg_id, sub, dlvrd, when, when, stat, err, body))
    assert (r["id"], r["sub"], r["dlvrd"], r["stat"], r["err"]) == (
        msg_id, f"{sub:03d}", f"{dlvrd:03d}", stat, f"{err:03d}")
    assert r["done_date"] == when.replace(second=0, microsecond=0)
    assert r["text"] == body[:20].strip()


def test_two_digit_years_are_read_as_this_century():
    """strptime's %y would make 69..99 the 1900s; receipts are about recent messages."""
    r = parse_receipt("id:1 submit date:9901020304 done date:6912312359 stat:DELIVRD")
    assert r["submit_date"] == datetime(2099, 1, 2, 3, 4)
    assert r["done_date"] == datetime(2069, 12, 31, 23, 59)
