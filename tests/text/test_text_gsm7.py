"""GSM 03.38 (3GPP TS 23.038) default alphabet, extension table and septet packing."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smpplib import gsm as smpplib_gsm

from gateway.text import gsm7

# Written by hand from the TS 23.038 6.2.1 table (column*16 + row).
DEFAULT_TABLE_VECTORS = {
    "@": 0x00, "£": 0x01, "$": 0x02, "¥": 0x03, "è": 0x04, "Ç": 0x09, "\n": 0x0A,
    "\r": 0x0D, "å": 0x0F, "Δ": 0x10, "_": 0x11, "Ξ": 0x1A, "Æ": 0x1C, "ß": 0x1E,
    "É": 0x1F, " ": 0x20, "¤": 0x24, "0": 0x30, "?": 0x3F, "¡": 0x40, "A": 0x41,
    "Z": 0x5A, "Ä": 0x5B, "Ü": 0x5E, "§": 0x5F, "¿": 0x60, "a": 0x61, "z": 0x7A,
    "ä": 0x7B, "ü": 0x7E, "à": 0x7F,
}
# TS 23.038 6.2.1.1, the extension table.
EXTENSION_VECTORS = {
    "\f": b"\x1b\x0a", "^": b"\x1b\x14", "{": b"\x1b\x28", "}": b"\x1b\x29",
    "\\": b"\x1b\x2f", "[": b"\x1b\x3c", "~": b"\x1b\x3d", "]": b"\x1b\x3e",
    "|": b"\x1b\x40", "€": b"\x1b\x65",
}
GSM_CHARS = "".join(ch for ch in gsm7.DEFAULT_ALPHABET if ch != "\x1b") + "".join(
    EXTENSION_VECTORS
)


@pytest.mark.parametrize("char,code", DEFAULT_TABLE_VECTORS.items())
def test_default_alphabet_characters_encode_to_their_table_septet(char, code):
    assert gsm7.encode(char) == bytes([code])
    assert gsm7.decode(bytes([code])) == char


@pytest.mark.parametrize("char,octets", EXTENSION_VECTORS.items())
def test_extension_characters_encode_as_escape_pairs(char, octets):
    assert gsm7.encode(char) == octets
    assert gsm7.decode(octets) == char


def test_encoding_agrees_with_smpplib_for_the_whole_alphabet():
    """smpplib is an independent table; it has '`' where the spec has '§' (0x5F)
    and lacks the form feed (1B 0A)."""
    text = GSM_CHARS.replace("§", "").replace("\f", "")
    assert gsm7.encode(text) == smpplib_gsm.gsm_encode(text)


def test_septet_length_counts_extension_characters_twice():
    assert gsm7.septet_length("a€{") == 5
    assert gsm7.septet_length("") == 0


def test_is_gsm7_accepts_alphabet_and_extension_but_not_other_characters():
    assert gsm7.is_gsm7(GSM_CHARS)
    assert not gsm7.is_gsm7("á")
    assert not gsm7.is_gsm7("`")
    assert not gsm7.is_gsm7("订单")


def test_encoding_an_unsupported_character_names_it_and_its_position():
    with pytest.raises(gsm7.GsmEncodeError, match=r"'á' \(U\+00E1\) at position 2"):
        gsm7.encode("abá")


def test_replace_mode_writes_question_marks_for_unsupported_characters():
    assert gsm7.encode("a订b", errors="replace") == b"a?b"


def test_escape_to_an_undefined_extension_code_shows_the_base_character():
    assert gsm7.decode(b"\x1b\x41") == "A"


def test_reserved_double_escape_and_trailing_escape_show_a_space():
    assert gsm7.decode(b"a\x1b\x1bb") == "a b"
    assert gsm7.decode(b"a\x1b") == "a "


def test_octets_above_0x7f_decode_as_question_marks():
    assert gsm7.decode(b"a\x80\xff") == "a??"
    assert gsm7.decode(b"\x1b\x9b") == " ?"


@given(st.text(alphabet=GSM_CHARS))
def test_gsm_text_round_trips(text):
    encoded = gsm7.encode(text)
    assert gsm7.decode(encoded) == text
    assert len(encoded) == gsm7.septet_length(text)


@given(st.binary())
def test_decoding_any_octets_never_raises(data):
    assert isinstance(gsm7.decode(data), str)


# --- packing -------------------------------------------------------------------------

def test_packing_hellohello_gives_the_classic_vector():
    """The "hellohello" example found in GSM 03.38 tutorials and TS 23.038 6.1.2.1.1."""
    assert gsm7.pack_septets(gsm7.encode("hellohello")).hex() == "e8329bfd4697d9ec37"


def test_eight_septets_pack_into_seven_octets():
    assert gsm7.pack_septets(gsm7.encode("12345678")).hex() == "31d98c56b3dd70"


def _pack_by_bit_string(septets: bytes, fill: int) -> bytes:
    """An independent packing: write the bit stream LSB first, then cut octets."""
    bits = "0" * fill + "".join(format(s, "07b")[::-1] for s in septets)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))


def test_fill_bits_after_a_concatenation_udh_is_one():
    """A 6-octet UDH is 48 bits; one fill bit brings the text to a septet boundary."""
    assert gsm7.fill_bits(6) == 1
    assert gsm7.fill_bits(7) == 0
    assert gsm7.fill_bits(0) == 0


def test_packing_with_a_fill_bit_shifts_the_stream_by_one():
    assert gsm7.pack_septets(b"\x7f", fill=1) == bytes([0xFE])
    assert gsm7.pack_septets(gsm7.encode("hi"), fill=1) == _pack_by_bit_string(b"\x68\x69", 1)


@given(st.binary().map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_packing_matches_a_bit_string_packer_and_unpacks_back(septets, fill):
    packed = gsm7.pack_septets(septets, fill)
    if septets:
        assert packed == _pack_by_bit_string(septets, fill)
    assert gsm7.unpack_septets(packed, len(septets), fill) == septets


def test_unpacking_more_septets_than_the_octets_hold_is_refused():
    with pytest.raises(ValueError, match="hold 1 septets, not 2"):
        gsm7.unpack_septets(b"\x41", 2)


def test_packing_refuses_octets_that_are_not_septets_and_bad_fill():
    with pytest.raises(ValueError, match="not a septet"):
        gsm7.pack_septets(b"\x80")
    with pytest.raises(ValueError, match="fill bits"):
        gsm7.pack_septets(b"a", fill=7)
