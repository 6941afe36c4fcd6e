"""The three message types every connector speaks at its edge.

SMPP today, CMPP and web input later: each turns its wire format into these, so that
storage, routing, retries and receipts are written once (STYLE.md, "one message type,
one pipeline").
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConcatInfo:
    """Position of one part in a concatenated (long) message."""

    reference: int  # 0..255 for 8-bit UDH, 0..65535 for 16-bit UDH / sar_msg_ref_num
    total: int  # 1..255
    number: int  # 1-based, 1..total


@dataclass(frozen=True)
class InboundSms:
    """A mobile-originated message (or one part of a long one) as the SMS centre gave it."""

    link: str  # name of the connector it came by
    sender: str  # the handset's MSISDN
    recipient: str  # destination address: service code + enterprise extension
    text: str  # decoded text of this message or part (UDH removed)
    smsc_id: str | None = None  # the SMS centre's id for this MO, the deduplication key
    concat: ConcatInfo | None = None  # set when this is one part of a long message


@dataclass(frozen=True)
class DeliveryReport:
    """A delivery receipt for a message we submitted earlier."""

    link: str
    smsc_id: str  # the id the SMS centre gave at submit (receipted_message_id / "id:")
    state: str  # DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN, ACCEPTD, ENROUTE
    error: str | None = None  # the receipt's err: field, if any


@dataclass(frozen=True)
class OutboundSms:
    """One SMS (one part of a reply) waiting in the outbox to be submitted."""

    outbox_id: int
    sender: str  # our source address (service code + extension)
    recipient: str  # the handset
    text: str  # the text of this part only
    coding: str  # "gsm7", "ucs2", or "binary" (text = the user data in hex, UDH first)
    concat: ConcatInfo | None = None
    want_receipt: bool = True

    def binary_payload(self) -> bytes:
        """The user data of a binary message (e.g. a WAP Push): one SMS, starting with its
        UDH. Raises ValueError for anything a connector could not send as it is."""
        if self.concat is not None:
            raise ValueError("a binary message is one SMS, never a part")
        try:
            payload = bytes.fromhex(self.text)
        except ValueError:
            raise ValueError("a binary message's text must be hex") from None
        if not payload or payload[0] == 0 or payload[0] + 1 > len(payload):
            raise ValueError("a binary message must start with a user data header")
        if len(payload) > 140:
            raise ValueError("a binary message must fit one SMS (140 octets)")
        return payload
