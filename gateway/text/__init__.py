"""Message text: GSM 7-bit and UCS-2 codings, splitting into parts, user data headers,
reassembly and delivery-receipt text. Pure: no Twisted, no I/O (INTERNALS.md)."""
from gateway.text.coding import (
    GSM7,
    UCS2,
    TextTooLong,
    choose_coding,
    decode,
    encode,
    split,
)
from gateway.text.gsm7 import GsmEncodeError
from gateway.text.reassembly import Reassembler
from gateway.text.udh import UdhError, concat_udh, parse_udh

__all__ = [
    "GSM7",
    "UCS2",
    "GsmEncodeError",
    "Reassembler",
    "TextTooLong",
    "UdhError",
    "choose_coding",
    "concat_udh",
    "decode",
    "encode",
    "parse_udh",
    "split",
]
