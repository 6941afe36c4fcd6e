"""Between SMPP `Sm` bodies and the shared message types (gateway.messages).

deliver_sm becomes an `InboundSms` or a `DeliveryReport`; an `OutboundSms` becomes a
submit_sm body. Text handling (codings, UDH, receipt text) lives in gateway.text.
"""
from __future__ import annotations

import struct

from gateway import text as gtext
from gateway.messages import ConcatInfo, DeliveryReport, InboundSms, OutboundSms
from gateway.smpp.pdu import MAX_SHORT_MESSAGE, MERP_MO_ID_TAG, Sm, Status, Tag, Tlv
from gateway.text.receipts import parse_receipt

ESM_UDHI = 0x40
ESM_TYPE_MASK = 0x3C
ESM_TYPE_RECEIPT = 0x04

DATA_CODING = {"gsm7": 0, "ucs2": 8, "binary": 4}
#: An outbound "text" that is the hex of 8-bit user data, UDH first (a WAP Push SI).
BINARY = "binary"

MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}


class ConvertError(Exception):
    """A deliver_sm we cannot turn into a message; `status` is the deliver_sm_resp status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def state_name(state: int) -> str:
    """The receipt stat: name of an SMPP message_state number (UNKNOWN when unheard of)."""
    return MESSAGE_STATES.get(state, "UNKNOWN")


def is_receipt(sm: Sm) -> bool:
    return sm.esm_class & ESM_TYPE_MASK == ESM_TYPE_RECEIPT


def from_deliver(link: str, sm: Sm, mo_id_tag: int = MERP_MO_ID_TAG
                 ) -> InboundSms | DeliveryReport:
    """The message a deliver_sm carries; raises ConvertError when it makes no sense."""
    if is_receipt(sm):
        return _receipt(link, sm)
    return _inbound(link, sm, mo_id_tag)


def _payload(sm: Sm) -> bytes:
    if sm.short_message:
        return sm.short_message
    return sm.tlv(Tag.MESSAGE_PAYLOAD) or b""


def _ascii(value: bytes) -> str:
    return value.rstrip(b"\0").decode("ascii", errors="replace")


def _inbound(link: str, sm: Sm, mo_id_tag: int) -> InboundSms:
    payload = _payload(sm)
    concat = None
    if sm.esm_class & ESM_UDHI:
        try:
            concat, payload = gtext.parse_udh(payload)
        except gtext.UdhError as e:
            raise ConvertError(Status.ESME_RX_P_APPN, f"bad user data header: {e}") from None
    else:
        concat = _sar(sm)
    smsc_id = sm.tlv(mo_id_tag)
    return InboundSms(
        link=link,
        sender=sm.source_addr,
        recipient=sm.destination_addr,
        text=gtext.decode(payload, sm.data_coding),
        smsc_id=_ascii(smsc_id) if smsc_id else None,
        concat=concat,
    )


def _sar(sm: Sm) -> ConcatInfo | None:
    ref, total, number = (sm.tlv(Tag.SAR_MSG_REF_NUM), sm.tlv(Tag.SAR_TOTAL_SEGMENTS),
                          sm.tlv(Tag.SAR_SEGMENT_SEQNUM))
    if ref is None or total is None or number is None:
        return None
    total_n, number_n = total[0], number[0]
    if total_n == 0 or not 1 <= number_n <= total_n:
        return None
    return ConcatInfo(reference=struct.unpack(">H", ref)[0], total=total_n, number=number_n)


def _receipt(link: str, sm: Sm) -> DeliveryReport:
    fields = parse_receipt(_payload(sm)) or {}
    tlv_id = sm.tlv(Tag.RECEIPTED_MESSAGE_ID)
    tlv_state = sm.tlv(Tag.MESSAGE_STATE)
    smsc_id = _ascii(tlv_id) if tlv_id else fields.get("id")
    state = state_name(tlv_state[0]) if tlv_state else fields.get("stat")
    if not smsc_id or not state:
        raise ConvertError(Status.ESME_RX_P_APPN, "delivery receipt without id or state")
    error = fields.get("err")
    if error is None:
        network_error = sm.tlv(Tag.NETWORK_ERROR_CODE)
        if network_error and len(network_error) == 3:
            error = str(struct.unpack(">H", network_error[1:3])[0])
    return DeliveryReport(link=link, smsc_id=smsc_id, state=state, error=error)


def to_submit(msg: OutboundSms, source_ton: int = 0, source_npi: int = 0,
              dest_ton: int = 1, dest_npi: int = 1) -> Sm:
    """The submit_sm body for one outbound part; raises ValueError when it cannot be sent."""
    if msg.coding == BINARY:
        payload, esm_class = msg.binary_payload(), ESM_UDHI
    elif msg.coding not in DATA_CODING:
        raise ValueError(f"unknown coding {msg.coding!r}")
    else:
        payload, esm_class = gtext.encode(msg.text, msg.coding), 0
    if msg.concat is not None:
        c = msg.concat
        payload = gtext.concat_udh(c.reference, c.total, c.number) + payload
        esm_class |= ESM_UDHI
    short_message, tlvs = payload, ()
    if len(payload) > MAX_SHORT_MESSAGE:
        short_message, tlvs = b"", (Tlv(Tag.MESSAGE_PAYLOAD, payload),)
    return Sm(
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        source_addr=msg.sender,
        dest_addr_ton=dest_ton,
        dest_addr_npi=dest_npi,
        destination_addr=msg.recipient,
        esm_class=esm_class,
        registered_delivery=1 if msg.want_receipt else 0,
        data_coding=DATA_CODING[msg.coding],
        short_message=short_message,
        tlvs=tlvs,
    )
