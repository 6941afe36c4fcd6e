"""Choosing a coding, encoding, decoding and splitting message text.

The rules are the ones every SMS centre applies (3GPP TS 23.038, TS 23.040): 160 septets
or 70 UCS-2 code units fit in one SMS; a concatenated part loses 6 octets to its UDH,
leaving 153 septets or 67 units.
"""
from __future__ import annotations


from gateway.text import gsm7, ucs2

GSM7 = "gsm7"
UCS2 = "ucs2"

SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
PART_LIMIT = {GSM7: 153, UCS2: 67}
MAX_PARTS = 255  # the concatenation IE counts parts in one octet

_UNIT_COUNTERS = {GSM7: gsm7.char_septets, UCS2: ucs2.char_units}


class TextTooLong(ValueError):
    """The text needs more than 255 concatenated parts."""


def choose_coding(text: str) -> str:
    """"gsm7" when the GSM alphabet carries the whole text, else "ucs2"."""
    return GSM7 if gsm7.is_gsm7(text) else UCS2


def _check_coding(coding: str) -> None:
    if coding not in SINGLE_LIMIT:
        raise ValueError(f"unknown coding {coding!r}; expected 'gsm7' or 'ucs2'")


def encode(text: str, coding: str) -> bytes:
    """Text to SMPP short_message octets: unpacked septets for gsm7, UTF-16-BE for ucs2.

    Raises gsm7.GsmEncodeError (a ValueError) when gsm7 is asked for a text it cannot
    carry, and ValueError for an unknown coding.
    """
    _check_coding(coding)
    if coding == GSM7:
        return gsm7.encode(text)
    return ucs2.encode(text)


def _gsm_dcs_alphabet(data_coding: int) -> int | None:
    """For GSM DCS groups with an alphabet field (0xC0..0xFF): 0 GSM, 4 8-bit, 8 UCS-2."""
    if 0xC0 <= data_coding <= 0xDF:
        return 0
    if 0xE0 <= data_coding <= 0xEF:
        return 8
    if 0xF0 <= data_coding <= 0xFF:
        return 4 if data_coding & 0x04 else 0
    return None


def decode(data: bytes, data_coding: int) -> str:
    """short_message octets to text by SMPP data_coding; never raises on odd bytes.

    0 GSM default (unpacked), 1 IA5/ASCII, 3 Latin-1, 8 UCS-2 (UTF-16-BE), 15 GBK (CMPP
    Msg_Fmt 15 uses the same number); the GSM message-waiting and message-class groups
    (0xC0..0xFF) by their alphabet bits; binary (2, 4) and anything else as Latin-1.
    """
    data = bytes(data)
    data_coding = _gsm_dcs_alphabet(data_coding) if data_coding >= 0xC0 else data_coding
    if data_coding == 0:
        return gsm7.decode(data)
    if data_coding == 1:
        return data.decode("ascii", errors="replace")
    if data_coding == 8:
        return ucs2.decode(data)
    if data_coding == 15:
        return data.decode("gbk", errors="replace")
    return data.decode("latin-1")


def split(text: str, coding: str | None = None) -> tuple[str, list[str]]:
    """Split text into SMS parts: (coding, [part_text, ...]).

    One part when it fits in a single SMS, else parts of at most 153 septets / 67
    units; an escape pair or a surrogate pair is never cut (a part then runs one short).
    Raises TextTooLong past 255 parts, GsmEncodeError when gsm7 is forced on a text it
    cannot carry.
    """
    if coding is None:
        coding = choose_coding(text)
    _check_coding(coding)
    if coding == GSM7 and not gsm7.is_gsm7(text):
        gsm7.encode(text)  # raises GsmEncodeError naming the character
    units = _UNIT_COUNTERS[coding]
    if sum(units(ch) for ch in text) <= SINGLE_LIMIT[coding]:
        return coding, [text]
    limit = PART_LIMIT[coding]
    parts: list[str] = []
    start = 0
    used = 0
    for index, ch in enumerate(text):
        size = units(ch)
        if used + size > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += size
    parts.append(text[start:])
    if len(parts) > MAX_PARTS:
        raise TextTooLong(f"text needs {len(parts)} parts; at most {MAX_PARTS} can be joined")
    return coding, parts


