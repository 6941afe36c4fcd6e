"""GSM 03.38 / 3GPP TS 23.038 default alphabet and its extension table.

SMPP data_coding 0 carries one septet per octet (unpacked); the handset air interface
and CMPP payloads pack septets into octets, so both forms live here. Pure: no imports
beyond the standard library.
"""
from __future__ import annotations

ESC = 0x1B

# 3GPP TS 23.038 section 6.2.1, the default alphabet, code points 0x00..0x7F in order.
# 0x1B is the escape to the extension table; it has no character of its own here.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(DEFAULT_ALPHABET) == 128

# 3GPP TS 23.038 section 6.2.1.1, the extension table (reached by ESC 0x1B).
EXTENSION_TABLE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASE_CODE = {ch: code for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESC}
_EXTENSION_CODE = {ch: code for code, ch in EXTENSION_TABLE.items()}


class GsmEncodeError(ValueError):
    """The text holds a character the GSM default alphabet cannot carry."""


def is_gsm7(text: str) -> bool:
    """True when every character is in the default alphabet or its extension table."""
    return all(ch in _BASE_CODE or ch in _EXTENSION_CODE for ch in text)


def char_septets(ch: str) -> int:
    """Septets one character takes: 2 for extension-table characters, else 1."""
    return 2 if ch in _EXTENSION_CODE else 1


def septet_length(text: str) -> int:
    """Septets the text takes on the air (extension characters count 2)."""
    return sum(char_septets(ch) for ch in text)


def encode(text: str, errors: str = "strict") -> bytes:
    """Text to unpacked septets, one per octet, ESC-prefixed for the extension table.

    errors="strict" raises GsmEncodeError naming the first character that does not fit;
    errors="replace" writes '?' for it instead.
    """
    out = bytearray()
    for position, ch in enumerate(text):
        code = _BASE_CODE.get(ch)
        if code is not None:
            out.append(code)
            continue
        code = _EXTENSION_CODE.get(ch)
        if code is not None:
            out += bytes((ESC, code))
        elif errors == "replace":
            out.append(_BASE_CODE["?"])
        else:
            raise GsmEncodeError(
                f"character {ch!r} (U+{ord(ch):04X}) at position {position} "
                "is not in the GSM 03.38 default alphabet"
            )
    return bytes(out)


def decode(data: bytes) -> str:
    """Unpacked septets to text; never raises.

    Per TS 23.038 6.2.1.1 an escape to an undefined extension code shows the base
    character, and ESC ESC (reserved) or a trailing ESC shows a space. Octets above 0x7F
    are not septets at all and become '?'.
    """
    out = []
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        i += 1
        if code > 0x7F:
            out.append("?")
        elif code != ESC:
            out.append(DEFAULT_ALPHABET[code])
        elif i < n and data[i] in EXTENSION_TABLE:
            out.append(EXTENSION_TABLE[data[i]])
            i += 1
        elif i < n and data[i] < 0x80 and data[i] != ESC:
            out.append(DEFAULT_ALPHABET[data[i]])
            i += 1
        elif i < n and data[i] == ESC:
            out.append(" ")
            i += 1
        else:
            out.append(" ")
    return "".join(out)


def fill_bits(udh_length: int) -> int:
    """Fill bits after a UDH of udh_length octets (UDHL included) so septets align."""
    return (7 - (udh_length * 8) % 7) % 7


def pack_septets(septets: bytes, fill: int = 0) -> bytes:
    """Pack septets into octets, least significant bit first (TS 23.038 6.1.2.1.1).

    fill zero bits come first: after a UDH the first septet starts on a septet
    boundary counted from the start of the user data (see fill_bits).
    """
    if not 0 <= fill <= 6:
        raise ValueError(f"fill bits must be 0..6, not {fill}")
    acc = 0
    nbits = fill
    for septet in septets:
        if septet > 0x7F:
            raise ValueError(f"0x{septet:02X} is not a septet")
        acc |= septet << nbits
        nbits += 7
    return acc.to_bytes((nbits + 7) // 8, "little") if septets else b""


def unpack_septets(data: bytes, count: int | None = None, fill: int = 0) -> bytes:
    """Unpack octets into septets (one per octet); the inverse of pack_septets.

    count is the septet count (TP-UDL less the UDH); without it every whole septet in
    the data is returned, which may add a trailing 0x00 when 7 spare bits remain.
    """
    if not 0 <= fill <= 6:
        raise ValueError(f"fill bits must be 0..6, not {fill}")
    available = max(0, (len(data) * 8 - fill) // 7)
    if count is None:
        count = available
    elif count > available:
        raise ValueError(f"{len(data)} octets hold {available} septets, not {count}")
    acc = int.from_bytes(data, "little") >> fill
    return bytes((acc >> (7 * i)) & 0x7F for i in range(count))
