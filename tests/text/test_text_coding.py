"""Choosing a coding, encoding, decoding by SMPP data_coding, and splitting long text."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smpplib import consts
from smpplib import gsm as smpplib_gsm

from gateway import text
from gateway.text import coding, gsm7


def test_gsm_text_chooses_gsm7_and_anything_else_ucs2():
    assert text.choose_coding("ORDER X100 5 €") == "gsm7"
    assert text.choose_coding("") == "gsm7"
    assert text.choose_coding("订单 X100") == "ucs2"
    assert text.choose_coding("café á") == "ucs2"


def test_gsm7_encoding_is_unpacked_septets():
    assert text.encode("@€{", "gsm7") == bytes.fromhex("00 1b65 1b28")


def test_ucs2_encoding_is_utf16_be_with_surrogate_pairs():
    """U+20AC and U+1F600 (D83D DE00 per the UTF-16 definition in RFC 2781)."""
    assert text.encode("€😀", "ucs2") == bytes.fromhex("20ac d83dde00")


def test_ucs2_encoding_writes_a_lone_surrogate_as_replacement_character():
    assert text.encode("a\ud800", "ucs2") == bytes.fromhex("0061 fffd")


def test_unknown_coding_and_impossible_gsm7_are_refused_clearly():
    with pytest.raises(ValueError, match="unknown coding 'latin9'"):
        text.encode("a", "latin9")
    with pytest.raises(text.GsmEncodeError, match="'订'"):
        text.encode("订", "gsm7")


@pytest.mark.parametrize(
    "data,data_coding,expected",
    [
        (bytes.fromhex("00 1b65 41"), 0, "@€A"),
        (b"Hello", 1, "Hello"),
        (b"caf\xe9", 3, "café"),
        (bytes.fromhex("8ba2 5355"), 8, "订单"),
        (bytes.fromhex("d6d0 cec4"), 15, "中文"),  # GBK for 中文
        (b"\x01\xff", 4, "\x01\xff"),
        (b"\x01\xff", 2, "\x01\xff"),
        (b"caf\xe9", 6, "café"),
        (bytes.fromhex("00 41"), 0xF0, "@A"),  # GSM DCS: class 0, default alphabet
        (bytes.fromhex("e9"), 0xF4, "é"),  # GSM DCS: class 0, 8-bit data
        (bytes.fromhex("20ac"), 0xE0, "€"),  # GSM DCS: MWI store, UCS-2
    ],
)
def test_decode_follows_smpp_data_coding(data, data_coding, expected):
    assert text.decode(data, data_coding) == expected


def test_ucs2_dangling_byte_and_lone_surrogate_decode_as_replacement():
    assert text.decode(bytes.fromhex("0041 00"), 8) == "A\ufffd"
    assert text.decode(bytes.fromhex("d800 0041"), 8) == "\ufffdA"


def test_ia5_octets_above_ascii_and_bad_gbk_are_replaced_not_raised():
    assert text.decode(b"a\xff", 1) == "a\ufffd"
    assert "\ufffd" in text.decode(b"\xff\xff", 15)


@given(st.binary(), st.integers(0, 255))
def test_decoding_any_octets_with_any_data_coding_never_raises(data, data_coding):
    assert isinstance(text.decode(data, data_coding), str)


# --- splitting -----------------------------------------------------------------------

def test_160_septets_fit_one_part_and_161_need_two():
    assert text.split("a" * 160) == ("gsm7", ["a" * 160])
    assert text.split("a" * 161) == ("gsm7", ["a" * 153, "a" * 8])


def test_extension_characters_count_two_towards_the_limit():
    coding_, parts = text.split("€" * 80)
    assert parts == ["€" * 80]
    coding_, parts = text.split("€" * 81)
    assert [len(p) for p in parts] == [76, 5]


def test_70_ucs2_units_fit_one_part_and_71_need_two():
    assert text.split("订" * 70) == ("ucs2", ["订" * 70])
    assert text.split("订" * 71) == ("ucs2", ["订" * 67, "订" * 4])


def test_an_escape_pair_is_never_cut_between_parts():
    coding_, parts = text.split("a" * 152 + "€" + "b" * 10)
    assert parts == ["a" * 152, "€" + "b" * 10]


def test_a_surrogate_pair_is_never_cut_between_parts():
    coding_, parts = text.split("订" * 66 + "😀" + "订" * 10)
    assert parts == ["订" * 66, "😀" + "订" * 10]


def test_split_can_be_told_the_coding():
    assert text.split("abc", "ucs2") == ("ucs2", ["abc"])
    with pytest.raises(text.GsmEncodeError):
        text.split("订", "gsm7")


def test_empty_text_is_one_empty_part():
    assert text.split("") == ("gsm7", [""])


def test_more_than_255_parts_is_refused():
    assert len(text.split("a" * 153 * 255)[1]) == 255
    with pytest.raises(text.TextTooLong, match="256 parts"):
        text.split("a" * (153 * 255 + 1))


SMPPLIB_CODING = {"gsm7": consts.SMPP_ENCODING_DEFAULT, "ucs2": consts.SMPP_ENCODING_ISO10646}


@pytest.mark.parametrize(
    "message,expected_coding,expected_parts",
    [
        ("Order X100 qty 5 approved.", "gsm7", 1),
        ("Stock report: " + "item A12 ok; " * 20, "gsm7", 2),
        ("Long reply " + "0123456789" * 40, "gsm7", 3),
        ("订单已批准", "ucs2", 1),
        ("库存报告：" + "商品正常，" * 20, "ucs2", 2),
        ("長い返信" + "订单数量批准" * 30, "ucs2", 3),
    ],
)
def test_parts_and_udhs_match_smpplib(message, expected_coding, expected_parts):
    """smpplib.gsm.make_parts is an independent splitter (UDH + payload per part)."""
    coding_, parts = text.split(message)
    assert coding_ == expected_coding
    assert len(parts) == expected_parts
    theirs, _, esm_class = smpplib_gsm.make_parts(message, SMPPLIB_CODING[coding_])
    if expected_parts == 1:
        assert [text.encode(parts[0], coding_)] == theirs
        return
    assert esm_class == consts.SMPP_GSMFEAT_UDHI
    ref = theirs[0][3]  # smpplib picks a random reference
    ours = [
        text.concat_udh(ref, len(parts), number) + text.encode(part, coding_)
        for number, part in enumerate(parts, start=1)
    ]
    assert ours == theirs


@given(st.text())
def test_any_text_round_trips_through_its_chosen_coding(message):
    coding_ = text.choose_coding(message)
    data_coding = 0 if coding_ == "gsm7" else 8
    assert text.decode(text.encode(message, coding_), data_coding) == message


GSM_HEAVY = st.text(alphabet="abc €{|\n@Δ", max_size=700)


@given(st.one_of(st.text(max_size=400), GSM_HEAVY, st.text(alphabet="订😀a", max_size=300)))
def test_split_parts_rejoin_and_each_fits_its_limit(message):
    coding_, parts = text.split(message)
    assert "".join(parts) == message
    size = gsm7.septet_length if coding_ == "gsm7" else (lambda p: len(p.encode("utf-16-be")) // 2)
    limit = coding.SINGLE_LIMIT[coding_] if len(parts) == 1 else coding.PART_LIMIT[coding_]
    assert all(size(p) <= limit for p in parts)
    assert all(p for p in parts) or parts == [""]
    # each part encodes on its own to exactly its share of the whole
    assert b"".join(text.encode(p, coding_) for p in parts) == text.encode(message, coding_)
