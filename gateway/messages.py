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
    coding: str  # "gsm7" or "ucs2"
    concat: ConcatInfo | None = None
    want_receipt: bool = True
