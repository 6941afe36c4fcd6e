"""WAP Push over SMS: a Service Indication (WAP-167) in WBXML, in a connectionless WSP
Push PDU (WAP-230), behind a WDP port-addressing UDH (WAP-259: port 2948 from 9200).

Pure codec: ``wap_push_si`` builds the 8-bit user data of one SMS (UDH included; send it
with data_coding 0x04 and the UDHI bit set); ``decode_push`` reads one back, for the
simulator's handsets. Only what an SI needs is implemented.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import datetime

PUSH_PORT, PUSH_SOURCE_PORT = 2948, 9200
UDH = struct.pack(">BBBHH", 6, 0x05, 4, PUSH_PORT, PUSH_SOURCE_PORT)  # IEI 5: 16-bit ports
SMS_OCTETS = 140

# WBXML global tokens
END, STR_I, OPAQUE = 0x01, 0x03, 0xC3
WBXML_1_2, SI_1_0, UTF_8 = 0x02, 0x05, 0x6A
# SI tag tokens (WAP-167 9.3.1), with the content (0x40) / attributes (0x80) bits
TAG_SI, TAG_INDICATION = 0x05, 0x06
CONTENT, ATTRIBUTES = 0x40, 0x80
# SI attribute start tokens (9.3.2); the longest matching href prefix is used
ACTIONS = {"signal-none": 0x05, "signal-low": 0x06, "signal-medium": 0x07, "signal-high": 0x08,
           "delete": 0x09}
ATTR_CREATED, ATTR_HREF, ATTR_SI_EXPIRES, ATTR_SI_ID = 0x0A, 0x0B, 0x10, 0x11
HREF_PREFIXES = (("https://www.", 0x0F), ("http://www.", 0x0D), ("https://", 0x0E), ("http://", 0x0C))
# SI attribute value tokens (9.3.3)
VALUE_TOKENS = {".com/": 0x85, ".edu/": 0x86, ".net/": 0x87, ".org/": 0x88}
_VALUE_RE = re.compile("|".join(re.escape(v) for v in VALUE_TOKENS))
# WSP: connectionless Push PDU, Content-Type application/vnd.wap.sic (0x2E),
# X-Wap-Application-Id (header 0x2F) x-wap-application:wml.ua (2)
WSP_PUSH = 0x06
SIC_CONTENT_TYPE = 0x80 | 0x2E
APPLICATION_ID_HEADER, WML_UA = 0x80 | 0x2F, 0x80 | 0x02


class PushError(ValueError):
    """Input that cannot become (or is not) an SI push."""


def _inline(text: str) -> bytes:
    data = text.encode("utf-8")
    if b"\x00" in data:
        raise PushError("an SI string cannot hold a NUL character")
    return bytes([STR_I]) + data + b"\x00"


def _value(text: str) -> bytes:
    """An attribute value: inline strings with the SI value tokens cut out."""
    out, at = bytearray(), 0
    for match in _VALUE_RE.finditer(text):
        if match.start() > at:
            out += _inline(text[at:match.start()])
        out.append(VALUE_TOKENS[match.group()])
        at = match.end()
    if at < len(text):
        out += _inline(text[at:])
    return bytes(out)


def _date(moment: datetime) -> bytes:
    """A date as the SI spec's OPAQUE: the digits of YYYYMMDDhhmmss two per octet (BCD
    read as hex), trailing zero octets dropped."""
    digits = moment.strftime("%Y%m%d%H%M%S")
    packed = bytes.fromhex(digits).rstrip(b"\x00")
    return bytes([OPAQUE, len(packed)]) + packed


def si_wbxml(href: str, text: str, *, created: datetime | None = None, expires: datetime | None = None,
             si_id: str | None = None, action: str | None = None) -> bytes:
    """The WBXML of ``<si><indication href=.. [si-id] [action] [created] [si-expires]>text``."""
    if not href:
        raise PushError("an SI needs an href")
    out = bytearray([WBXML_1_2, SI_1_0, UTF_8, 0x00, TAG_SI | CONTENT,
                     TAG_INDICATION | CONTENT | ATTRIBUTES])
    for prefix, token in HREF_PREFIXES:
        if href.startswith(prefix):
            out.append(token)
            out += _value(href[len(prefix):])
            break
    else:
        out.append(ATTR_HREF)
        out += _value(href)
    if si_id is not None:
        out.append(ATTR_SI_ID)
        out += _inline(si_id)
    if action is not None:
        if action not in ACTIONS:
            raise PushError(f"unknown SI action {action!r}")
        out.append(ACTIONS[action])
    if created is not None:
        out.append(ATTR_CREATED)
        out += _date(created)
    if expires is not None:
        out.append(ATTR_SI_EXPIRES)
        out += _date(expires)
    out.append(END)
    if text:
        out += _inline(text)
    out += bytes([END, END])
    return bytes(out)


def wap_push_si(url: str, text: str, *, transaction_id: int = 0, created: datetime | None = None,
                si_id: str | None = None, action: str = "signal-medium") -> bytes:
    """One SMS of 8-bit user data (UDH first) pushing an SI for ``url`` with ``text``;
    the text is shortened to fit one message."""
    headers = bytes([SIC_CONTENT_TYPE, APPLICATION_ID_HEADER, WML_UA])
    wsp = bytes([transaction_id & 0xFF, WSP_PUSH, len(headers)]) + headers
    fixed = len(UDH) + len(wsp) + len(si_wbxml(url, "", created=created, si_id=si_id, action=action))
    room = SMS_OCTETS - fixed - 2  # STR_I and its NUL
    if room < 0:
        raise PushError("the URL is too long for one push message")
    text = " ".join(text.split())
    while len(text.encode("utf-8")) > room:
        text = text[:-1]
    return UDH + wsp + si_wbxml(url, text, created=created, si_id=si_id, action=action)


@dataclass(frozen=True)
class ServiceIndication:
    href: str
    text: str


_HREF_BY_TOKEN = {token: prefix for prefix, token in HREF_PREFIXES}
_VALUE_BY_TOKEN = {token: value for value, token in VALUE_TOKENS.items()}


def decode_push(payload: bytes) -> ServiceIndication | None:
    """The SI in one SMS's 8-bit user data, or None when it is not an SI push to 2948."""
    try:
        udhl = payload[0]
        udh, body = payload[1:1 + udhl], payload[1 + udhl:]
        if not _to_push_port(udh):
            return None
        pdu_type, header_length = body[1], body[2]
        if pdu_type != WSP_PUSH or body[3] != SIC_CONTENT_TYPE:
            return None
        return _decode_si(body[3 + header_length:])
    except (IndexError, UnicodeDecodeError, PushError):
        return None


def _to_push_port(udh: bytes) -> bool:
    at = 0
    while at + 2 <= len(udh):
        iei, length = udh[at], udh[at + 1]
        if iei == 0x05 and length == 4:
            return struct.unpack(">H", udh[at + 2:at + 4])[0] == PUSH_PORT
        at += 2 + length
    return False


def _decode_si(data: bytes) -> ServiceIndication:
    if data[:4] != bytes([WBXML_1_2, SI_1_0, UTF_8, 0]) or data[4] != TAG_SI | CONTENT:
        raise PushError("not an SI 1.0 document in WBXML 1.2 / UTF-8")
    at, href, text = 6, "", ""
    if data[5] & 0x3F != TAG_INDICATION:
        raise PushError("no indication")
    current = None
    while data[at] != END:  # attributes
        token, at = data[at], at + 1
        if token == STR_I:
            end = data.index(0, at)
            value, at = data[at:end].decode("utf-8"), end + 1
            if current == "href":
                href += value
        elif token == OPAQUE:
            at += 1 + data[at]
        elif token in _VALUE_BY_TOKEN:
            if current == "href":
                href += _VALUE_BY_TOKEN[token]
        else:
            current = "href" if token in _HREF_BY_TOKEN or token == ATTR_HREF else "other"
            href += _HREF_BY_TOKEN.get(token, "") if current == "href" else ""
    at += 1
    if data[at] == STR_I:
        end = data.index(0, at + 1)
        text = data[at + 1:end].decode("utf-8")
    return ServiceIndication(href, text)
