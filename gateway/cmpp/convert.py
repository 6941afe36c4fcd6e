"""Between CMPP bodies and the shared message types (gateway.messages).

A DELIVER becomes an `InboundSms` or, when it carries a status report, a
`DeliveryReport` whose `smsc_id` is the decimal Msg_Id, the same string the SUBMIT_RESP
gave (`msgid.msg_id_text`), so receipts match outbox rows exactly as SMPP's do. An
`OutboundSms` becomes a SUBMIT: gsm7 text goes as Msg_Fmt 0 (ASCII) when it is ASCII,
else as UCS-2 when that fits one SMS; ucs2 as Msg_Fmt 8; parts with TP_udhi and a UDH.
"""
from __future__ import annotations

from dataclasses import dataclass

from gateway import text as gtext
from gateway.cmpp.msgid import msg_id_text
from gateway.cmpp.pdu import MAX_CONTENT, Deliver, MsgFmt, Result, Submit
from gateway.messages import DeliveryReport, InboundSms, OutboundSms

# What gateway.text.decode understands, by CMPP Msg_Fmt (0 is ASCII in CMPP, GSM in SMPP).
DATA_CODING = {MsgFmt.ASCII: 1, MsgFmt.UCS2: 8, MsgFmt.GBK: 15, MsgFmt.BINARY: 4}
KNOWN_STATES = frozenset({"DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN",
                          "REJECTD", "ENROUTE"})


class ConvertError(Exception):
    """A DELIVER we cannot turn into a message; `result` is the DELIVER_RESP Result."""

    def __init__(self, result: int, message: str):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class SubmitOptions:
    """The SP's fixed SUBMIT fields, from the link's configuration."""

    sp_id: str = ""  # Msg_src
    service_id: str = ""
    src_id_prefix: str = ""  # put before a sender that does not start with it
    fee_user_type: int = 2  # 2: neither party is charged (fee by Service_Id)
    fee_type: str = "01"  # free
    fee_code: str = "000000"


def from_deliver(link: str, deliver: Deliver) -> InboundSms | DeliveryReport:
    if deliver.registered_delivery == 1:
        return _report(link, deliver)
    payload = deliver.msg_content
    concat = None
    if deliver.tp_udhi:
        try:
            concat, payload = gtext.parse_udh(payload)
        except gtext.UdhError as e:
            raise ConvertError(Result.BAD_STRUCTURE, f"bad user data header: {e}") from None
    coding = DATA_CODING.get(deliver.msg_fmt, 3)
    return InboundSms(
        link=link,
        sender=deliver.src_terminal_id,
        recipient=deliver.dest_id,
        text=gtext.decode(payload, coding),
        smsc_id=msg_id_text(deliver.msg_id),
        concat=concat,
    )


def _report(link: str, deliver: Deliver) -> DeliveryReport:
    report = deliver.report
    if report is None:
        raise ConvertError(Result.BAD_STRUCTURE, "status report without its content")
    stat = report.stat.strip().upper()
    if stat in KNOWN_STATES:
        state, error = stat, None
    else:  # operator codes such as MK:0001 or DB:0008 are final failures
        state, error = "UNDELIV", report.stat.strip() or None
    return DeliveryReport(link=link, smsc_id=msg_id_text(report.msg_id), state=state, error=error)


def _encode_text(msg: OutboundSms, room: int) -> tuple[int, bytes]:
    if msg.coding == gtext.UCS2:
        return MsgFmt.UCS2, gtext.encode(msg.text, gtext.UCS2)
    if msg.coding != gtext.GSM7:
        raise ValueError(f"unknown coding {msg.coding!r}")
    try:
        return MsgFmt.ASCII, msg.text.encode("ascii")
    except UnicodeEncodeError:
        wide = gtext.encode(msg.text, gtext.UCS2)
        if len(wide) <= room:
            return MsgFmt.UCS2, wide
        return MsgFmt.ASCII, msg.text.encode("ascii", errors="replace")


def to_submit(msg: OutboundSms, options: SubmitOptions) -> Submit:
    """The SUBMIT for one outbound part; raises ValueError when it cannot be sent."""
    udh = b""
    pk_total = pk_number = 1
    if msg.coding == "binary":  # e.g. a WAP Push: the UDH is already in the payload
        return _submit(msg, options, MsgFmt.BINARY, msg.binary_payload(), tp_udhi=1,
                       pk_total=1, pk_number=1)
    if msg.concat is not None:
        c = msg.concat
        udh = gtext.concat_udh(c.reference, c.total, c.number)
        pk_total, pk_number = c.total, c.number
    msg_fmt, payload = _encode_text(msg, MAX_CONTENT - len(udh))
    return _submit(msg, options, msg_fmt, udh + payload, tp_udhi=1 if udh else 0,
                   pk_total=pk_total, pk_number=pk_number)


def _submit(msg: OutboundSms, options: SubmitOptions, msg_fmt: int, content: bytes, *,
            tp_udhi: int, pk_total: int, pk_number: int) -> Submit:
    src_id = msg.sender
    if options.src_id_prefix and not src_id.startswith(options.src_id_prefix):
        src_id = options.src_id_prefix + src_id
    return Submit(
        dest_terminal_ids=(msg.recipient,),
        msg_content=content,
        pk_total=pk_total,
        pk_number=pk_number,
        registered_delivery=1 if msg.want_receipt else 0,
        service_id=options.service_id,
        fee_user_type=options.fee_user_type,
        tp_udhi=tp_udhi,
        msg_fmt=msg_fmt,
        msg_src=options.sp_id,
        fee_type=options.fee_type,
        fee_code=options.fee_code,
        src_id=src_id,
    )
