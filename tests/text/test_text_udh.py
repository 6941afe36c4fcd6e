"""User data headers for concatenation, laid out as 3GPP TS 23.040 9.2.3.24 says:
UDHL, then (IEI, IEDL, data) elements; IEI 00 = 8-bit reference, 08 = 16-bit."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smpplib import gsm as smpplib_gsm

from gateway.messages import ConcatInfo
from gateway.text import UdhError, concat_udh, parse_udh


def test_concat_udh_is_udhl_iei_iedl_reference_total_number():
    assert concat_udh(0x2A, 3, 1) == bytes.fromhex("05 00 03 2a 03 01")


def test_a_reference_above_255_uses_the_16_bit_element():
    assert concat_udh(0x1234, 3, 2) == bytes.fromhex("06 08 04 1234 03 02")


@pytest.mark.parametrize(
    "args,message",
    [((1, 0, 1), "total parts must be 1..255"), ((1, 2, 3), "part number must be 1..2"),
     ((70000, 2, 1), "reference must be 0..65535"), ((-1, 2, 1), "reference")],
)
def test_concat_udh_refuses_impossible_values(args, message):
    with pytest.raises(ValueError, match=message):
        concat_udh(*args)


def test_parse_reads_an_8_bit_concatenation_and_returns_the_body():
    assert parse_udh(bytes.fromhex("05 00 03 a5 03 02") + b"body") == (
        ConcatInfo(reference=0xA5, total=3, number=2), b"body")


def test_parse_reads_a_16_bit_concatenation():
    assert parse_udh(bytes.fromhex("06 08 04 1234 03 02") + b"x") == (
        ConcatInfo(reference=0x1234, total=3, number=2), b"x")


def test_parse_skips_other_elements_such_as_port_addressing():
    """IEI 05 (16-bit application ports, 4 octets) before the concatenation element."""
    payload = bytes.fromhex("0b 05 04 0b84 23f0 00 03 a5 02 01") + b"wap"
    assert parse_udh(payload) == (ConcatInfo(reference=0xA5, total=2, number=1), b"wap")


def test_a_header_without_concatenation_gives_none_and_the_body():
    assert parse_udh(bytes.fromhex("04 05 02 0b84") + b"x") == (None, b"x")
    assert parse_udh(b"\x00abc") == (None, b"abc")


@pytest.mark.parametrize(
    "udh", ["05 00 03 a5 00 01", "05 00 03 a5 02 00", "05 00 03 a5 02 03"])
def test_a_concatenation_element_with_zero_or_out_of_range_counts_is_ignored(udh):
    """TS 23.040: the receiving entity shall ignore the whole element."""
    assert parse_udh(bytes.fromhex(udh) + b"b") == (None, b"b")


@pytest.mark.parametrize(
    "payload,message",
    [
        ("", "empty payload"),
        ("05 00 03 a5", "UDH length 5 overruns the payload of 4 octets"),
        ("03 00 05 a5", "claims 5 octets, 1 remain"),
        ("01 00", "cut short"),
        ("04 00 02 a5 02", "must be 3 octets, not 2"),
        ("05 08 03 a5 02 01", "must be 4 octets, not 3"),
    ],
)
def test_a_malformed_header_raises_udh_error_saying_what_is_wrong(payload, message):
    with pytest.raises(UdhError, match=message):
        parse_udh(bytes.fromhex(payload))


def test_udh_error_is_a_value_error():
    assert issubclass(UdhError, ValueError)


def test_parse_reads_smpplib_parts():
    parts, _, _ = smpplib_gsm.make_parts("x" * 200)
    ref = parts[0][3]
    assert [parse_udh(p) for p in parts] == [
        (ConcatInfo(ref, 2, 1), b"x" * 153), (ConcatInfo(ref, 2, 2), b"x" * 47)]


@given(st.integers(0, 0xFFFF), st.integers(1, 255).flatmap(
    lambda total: st.tuples(st.just(total), st.integers(1, total))), st.binary())
def test_concat_udh_and_parse_udh_round_trip(ref, total_number, body):
    total, number = total_number
    assert parse_udh(concat_udh(ref, total, number) + body) == (
        ConcatInfo(ref, total, number), body)


@given(st.binary())
def test_parse_of_any_octets_returns_or_raises_udh_error_only(data):
    try:
        concat, body = parse_udh(data)
    except UdhError:
        return
    assert isinstance(body, bytes)
