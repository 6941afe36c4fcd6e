"""User data headers (3GPP TS 23.040 9.2.3.24): building and reading the concatenation
element that joins the parts of a long message."""
from __future__ import annotations

from gateway.messages import ConcatInfo

IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08


class UdhError(ValueError):
    """The user data header is cut short or its lengths do not add up."""


def concat_udh(ref: int, total: int, number: int) -> bytes:
    """The UDH for part `number` of `total`: 05 00 03 ref total number.

    A reference above 255 (a 16-bit sar_msg_ref_num) gets the 16-bit element instead,
    06 08 04 ref_hi ref_lo total number, rather than being silently truncated.
    """
    if not 1 <= total <= 255:
        raise ValueError(f"total parts must be 1..255, not {total}")
    if not 1 <= number <= total:
        raise ValueError(f"part number must be 1..{total}, not {number}")
    if 0 <= ref <= 0xFF:
        return bytes((5, IEI_CONCAT_8BIT, 3, ref, total, number))
    if 0 <= ref <= 0xFFFF:
        return bytes((6, IEI_CONCAT_16BIT, 4, ref >> 8, ref & 0xFF, total, number))
    raise ValueError(f"reference must be 0..65535, not {ref}")


def parse_udh(payload: bytes) -> tuple[ConcatInfo | None, bytes]:
    """Split a payload that starts with a UDH into (concatenation info, body).

    Elements other than concatenation are skipped. Per TS 23.040 a concatenation element
    whose total or number is 0, or whose number exceeds the total, is ignored (None).
    Raises UdhError when the header is empty, cut short or its element lengths overrun it.
    """
    payload = bytes(payload)
    if not payload:
        raise UdhError("empty payload: no user data header length octet")
    header_length = payload[0]
    if header_length + 1 > len(payload):
        raise UdhError(
            f"UDH length {header_length} overruns the payload of {len(payload)} octets"
        )
    header = payload[1 : header_length + 1]
    body = payload[header_length + 1 :]
    concat = None
    i = 0
    while i < len(header):
        if i + 2 > len(header):
            raise UdhError(f"UDH element at offset {i + 1} is cut short")
        iei, length = header[i], header[i + 1]
        data = header[i + 2 : i + 2 + length]
        if len(data) < length:
            raise UdhError(
                f"UDH element 0x{iei:02X} claims {length} octets, {len(data)} remain"
            )
        if iei == IEI_CONCAT_8BIT:
            concat = _concat(iei, data, 3, data[0] if length == 3 else 0) or concat
        elif iei == IEI_CONCAT_16BIT:
            concat = _concat(iei, data, 4, int.from_bytes(data[:2], "big")) or concat
        i += 2 + length
    return concat, body


def _concat(iei: int, data: bytes, expected: int, ref: int) -> ConcatInfo | None:
    if len(data) != expected:
        raise UdhError(
            f"concatenation element 0x{iei:02X} must be {expected} octets, not {len(data)}"
        )
    total, number = data[-2], data[-1]
    if total == 0 or not 1 <= number <= total:
        return None
    return ConcatInfo(reference=ref, total=total, number=number)
