"""CMPP 2.0 and 3.0 PDUs (China Mobile Peer to Peer) as frozen dataclasses, and their codec.

Pure: bytes in, dataclasses out, and back. The two versions differ in field sizes
(terminal ids 21 vs 32 octets, Status/Result 1 vs 4 octets, terminal-type fields and
LinkID in 3.0), so `encode` and `decode` take the version. The numbers of the
specification are in `gateway.cmpp.spec`, the fixed-width field reader and writer in
`gateway.cmpp.fields`, the MD5 authenticators in `gateway.cmpp.auth`. A field that cannot
be read raises `PduError(result, command_id, sequence)` carrying the Result to answer
with, so the caller can reply and carry on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gateway.cmpp.fields import FieldReader, FieldWriter
from gateway.cmpp.spec import (  # noqa: F401 - the codec's importers name them as pdu.*
    HEADER, HEADER_LENGTH, MAX_ASCII_CONTENT, MAX_CONTENT, MAX_DESTINATIONS, MAX_SEQUENCE, RESPONSE_BIT,
    CommandId, ConnectStatus, MsgFmt, PduError, Result, Version, report_size, result_size, terminal_id_size,
)

# --- bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Empty:
    """TERMINATE, TERMINATE_RESP and ACTIVE_TEST carry no body."""


@dataclass(frozen=True)
class Connect:
    source_addr: str  # the SP id, 6 octets
    authenticator: bytes  # AuthenticatorSource, 16 octets
    version: int = Version.V30
    timestamp: int = 0  # MMDDHHMMSS as an integer


@dataclass(frozen=True)
class ConnectResp:
    status: int
    authenticator: bytes = b"\0" * 16  # AuthenticatorISMG
    version: int = Version.V30


@dataclass(frozen=True)
class Submit:
    dest_terminal_ids: tuple[str, ...]
    msg_content: bytes
    msg_id: int = 0
    pk_total: int = 1
    pk_number: int = 1
    registered_delivery: int = 0
    msg_level: int = 0
    service_id: str = ""
    fee_user_type: int = 0
    fee_terminal_id: str = ""
    fee_terminal_type: int = 0  # 3.0 only
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = MsgFmt.ASCII
    msg_src: str = ""
    fee_type: str = "01"
    fee_code: str = "000000"
    valid_time: str = ""
    at_time: str = ""
    src_id: str = ""
    dest_terminal_type: int = 0  # 3.0 only
    link_id: str = ""  # 3.0 only (2.0 has 8 reserved octets there)


@dataclass(frozen=True)
class SubmitResp:
    msg_id: int = 0
    result: int = Result.OK


@dataclass(frozen=True)
class StatusReport:
    """Msg_Content of a DELIVER with Registered_Delivery = 1."""

    msg_id: int  # the Msg_Id from our SUBMIT_RESP
    stat: str  # DELIVRD, EXPIRED, UNDELIV, ... (7 octets)
    submit_time: str = ""  # YYMMDDHHMM
    done_time: str = ""
    dest_terminal_id: str = ""
    smsc_sequence: int = 0


@dataclass(frozen=True)
class Deliver:
    msg_id: int
    dest_id: str  # our service number (+ extension)
    src_terminal_id: str  # the handset (for a report: as the ISMG puts it)
    msg_content: bytes = b""
    service_id: str = ""
    tp_pid: int = 0
    tp_udhi: int = 0
    msg_fmt: int = MsgFmt.ASCII
    src_terminal_type: int = 0  # 3.0 only
    registered_delivery: int = 0  # 1: msg_content is a status report
    link_id: str = ""  # 3.0 only
    report: StatusReport | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DeliverResp:
    msg_id: int
    result: int = Result.OK


@dataclass(frozen=True)
class ActiveTestResp:
    reserved: int = 0


@dataclass(frozen=True)
class Query:
    time: str  # YYYYMMDD
    query_type: int = 0
    query_code: str = ""


@dataclass(frozen=True)
class QueryResp:
    time: str
    query_type: int = 0
    query_code: str = ""
    counts: tuple[int, ...] = (0,) * 8  # MT_TLMsg MT_Tlusr MT_Scs MT_WT MT_FL MO_Scs MO_WT MO_FL


@dataclass(frozen=True)
class Cancel:
    msg_id: int


@dataclass(frozen=True)
class CancelResp:
    success: int = 0


Body = (Empty | Connect | ConnectResp | Submit | SubmitResp | Deliver | DeliverResp
        | ActiveTestResp | Query | QueryResp | Cancel | CancelResp)


@dataclass(frozen=True)
class Pdu:
    command_id: CommandId
    sequence: int
    body: Body = field(default_factory=Empty)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)


def _content_limit(msg_fmt: int) -> int:
    return MAX_ASCII_CONTENT if msg_fmt == MsgFmt.ASCII else MAX_CONTENT


# --- encode ----------------------------------------------------------------------------------


def encode(pdu: Pdu, version: int = Version.V30) -> bytes:
    """The PDU on the wire; raises ValueError when a field does not fit its size."""
    body = _encode_body(pdu.command_id, pdu.body, version)
    return HEADER.pack(HEADER_LENGTH + len(body), pdu.command_id, pdu.sequence) + body


def _encode_body(command_id: int, body, version: int) -> bytes:
    w = FieldWriter(command_id)
    tid = terminal_id_size(version)
    rsize = result_size(version)
    v3 = version == Version.V30
    if isinstance(body, Empty):
        pass
    elif isinstance(body, Connect):
        w.octets(body.source_addr, 6, "Source_Addr")
        w.octets(body.authenticator, 16, "AuthenticatorSource")
        w.uint(body.version, 1, "Version")
        w.uint(body.timestamp, 4, "Timestamp")
    elif isinstance(body, ConnectResp):
        w.uint(body.status, rsize, "Status")
        w.octets(body.authenticator, 16, "AuthenticatorISMG")
        w.uint(body.version, 1, "Version")
    elif isinstance(body, Submit):
        _encode_submit(w, body, tid, v3)
    elif isinstance(body, (SubmitResp, DeliverResp)):
        w.uint(body.msg_id, 8, "Msg_Id")
        w.uint(body.result, rsize, "Result")
    elif isinstance(body, Deliver):
        _encode_deliver(w, body, version)
    elif isinstance(body, ActiveTestResp):
        w.uint(body.reserved, 1, "Reserved")
    elif isinstance(body, Query):
        w.octets(body.time, 8, "Time")
        w.uint(body.query_type, 1, "Query_Type")
        w.octets(body.query_code, 10, "Query_Code")
        w.octets(b"", 8, "Reserve")
    elif isinstance(body, QueryResp):
        w.octets(body.time, 8, "Time")
        w.uint(body.query_type, 1, "Query_Type")
        w.octets(body.query_code, 10, "Query_Code")
        if len(body.counts) != 8:
            raise ValueError("QUERY_RESP has eight counters")
        for n in body.counts:
            w.uint(n, 4, "count")
    elif isinstance(body, Cancel):
        w.uint(body.msg_id, 8, "Msg_Id")
    elif isinstance(body, CancelResp):
        w.uint(body.success, rsize, "Success_Id")
    else:
        raise ValueError(f"no encoder for {type(body).__name__}")
    return w.bytes()


def _encode_submit(w: FieldWriter, s: Submit, tid: int, v3: bool) -> None:
    if not 1 <= len(s.dest_terminal_ids) <= MAX_DESTINATIONS:
        raise ValueError(f"DestUsr_tl must be 1..{MAX_DESTINATIONS}")
    if len(s.msg_content) > _content_limit(s.msg_fmt):
        raise ValueError(f"Msg_Content of {len(s.msg_content)} octets is too long")
    w.uint(s.msg_id, 8, "Msg_Id")
    w.uint(s.pk_total, 1, "Pk_total")
    w.uint(s.pk_number, 1, "Pk_number")
    w.uint(s.registered_delivery, 1, "Registered_Delivery")
    w.uint(s.msg_level, 1, "Msg_level")
    w.octets(s.service_id, 10, "Service_Id")
    w.uint(s.fee_user_type, 1, "Fee_UserType")
    w.octets(s.fee_terminal_id, tid, "Fee_terminal_Id")
    if v3:
        w.uint(s.fee_terminal_type, 1, "Fee_terminal_type")
    w.uint(s.tp_pid, 1, "TP_pId")
    w.uint(s.tp_udhi, 1, "TP_udhi")
    w.uint(s.msg_fmt, 1, "Msg_Fmt")
    w.octets(s.msg_src, 6, "Msg_src")
    w.octets(s.fee_type, 2, "FeeType")
    w.octets(s.fee_code, 6, "FeeCode")
    w.octets(s.valid_time, 17, "ValId_Time")
    w.octets(s.at_time, 17, "At_Time")
    w.octets(s.src_id, 21, "Src_Id")
    w.uint(len(s.dest_terminal_ids), 1, "DestUsr_tl")
    for dest in s.dest_terminal_ids:
        w.octets(dest, tid, "Dest_terminal_Id")
    if v3:
        w.uint(s.dest_terminal_type, 1, "Dest_terminal_type")
    w.uint(len(s.msg_content), 1, "Msg_Length")
    w.raw(s.msg_content)
    w.octets(s.link_id if v3 else b"", 20 if v3 else 8, "LinkID" if v3 else "Reserve")


def encode_report(report: StatusReport, version: int = Version.V30) -> bytes:
    w = FieldWriter(CommandId.DELIVER)
    w.uint(report.msg_id, 8, "Msg_Id")
    w.octets(report.stat, 7, "Stat")
    w.octets(report.submit_time, 10, "Submit_time")
    w.octets(report.done_time, 10, "Done_time")
    w.octets(report.dest_terminal_id, terminal_id_size(version), "Dest_terminal_Id")
    w.uint(report.smsc_sequence, 4, "SMSC_sequence")
    return w.bytes()


def _encode_deliver(w: FieldWriter, d: Deliver, version: int) -> None:
    v3 = version == Version.V30
    content = d.msg_content
    registered = d.registered_delivery
    if d.report is not None:
        content, registered = encode_report(d.report, version), 1
    if len(content) > _content_limit(d.msg_fmt) and not registered:
        raise ValueError(f"Msg_Content of {len(content)} octets is too long")
    w.uint(d.msg_id, 8, "Msg_Id")
    w.octets(d.dest_id, 21, "Dest_Id")
    w.octets(d.service_id, 10, "Service_Id")
    w.uint(d.tp_pid, 1, "TP_pid")
    w.uint(d.tp_udhi, 1, "TP_udhi")
    w.uint(d.msg_fmt, 1, "Msg_Fmt")
    w.octets(d.src_terminal_id, terminal_id_size(version), "Src_terminal_Id")
    if v3:
        w.uint(d.src_terminal_type, 1, "Src_terminal_type")
    w.uint(registered, 1, "Registered_Delivery")
    w.uint(len(content), 1, "Msg_Length")
    w.raw(content)
    w.octets(d.link_id if v3 else b"", 20 if v3 else 8, "LinkID" if v3 else "Reserved")


# --- decode ----------------------------------------------------------------------------------


def decode(frame: bytes, version: int = Version.V30) -> Pdu:
    """One whole frame (header included, as framing cut it) into a Pdu; PduError if unreadable."""
    if len(frame) < HEADER_LENGTH:
        raise PduError(Result.BAD_STRUCTURE, 0, 0, f"frame of {len(frame)} octets has no header")
    length, command_id, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise PduError(Result.BAD_LENGTH, command_id, sequence,
                       f"Total_Length {length} but the frame has {len(frame)} octets")
    if command_id not in CommandId._value2member_map_:
        raise PduError(Result.BAD_COMMAND, command_id, sequence,
                       f"unknown Command_Id 0x{command_id:08X}")
    cid = CommandId(command_id)
    r = FieldReader(frame[HEADER_LENGTH:], cid, sequence)
    body = _decode_body(cid, r, version)
    r.done()
    return Pdu(cid, sequence, body)


def _decode_body(cid: CommandId, r: FieldReader, version: int):
    tid = terminal_id_size(version)
    rsize = result_size(version)
    v3 = version == Version.V30
    if cid in (CommandId.TERMINATE, CommandId.TERMINATE_RESP, CommandId.ACTIVE_TEST):
        return Empty()
    if cid is CommandId.CONNECT:
        return Connect(r.text(6, "Source_Addr"), r.take(16, "AuthenticatorSource"),
                       r.uint(1, "Version"), r.uint(4, "Timestamp"))
    if cid is CommandId.CONNECT_RESP:
        return ConnectResp(r.uint(rsize, "Status"), r.take(16, "AuthenticatorISMG"),
                           r.uint(1, "Version"))
    if cid is CommandId.SUBMIT:
        return _decode_submit(r, tid, v3)
    if cid in (CommandId.SUBMIT_RESP, CommandId.DELIVER_RESP):
        kind = SubmitResp if cid is CommandId.SUBMIT_RESP else DeliverResp
        return kind(r.uint(8, "Msg_Id"), r.uint(rsize, "Result"))
    if cid is CommandId.DELIVER:
        return _decode_deliver(r, version)
    if cid is CommandId.ACTIVE_TEST_RESP:
        # Some ISMGs send it without the Reserved octet; accept both.
        return ActiveTestResp(r.uint(1, "Reserved") if r.data else 0)
    if cid is CommandId.QUERY:
        body = Query(r.text(8, "Time"), r.uint(1, "Query_Type"), r.text(10, "Query_Code"))
        r.take(8, "Reserve")
        return body
    if cid is CommandId.QUERY_RESP:
        time, qtype, code = r.text(8, "Time"), r.uint(1, "Query_Type"), r.text(10, "Query_Code")
        return QueryResp(time, qtype, code, tuple(r.uint(4, "count") for _ in range(8)))
    if cid is CommandId.CANCEL:
        return Cancel(r.uint(8, "Msg_Id"))
    return CancelResp(r.uint(rsize, "Success_Id"))  # CANCEL_RESP, the last one left


def _decode_submit(r: FieldReader, tid: int, v3: bool) -> Submit:
    msg_id = r.msg_id = r.uint(8, "Msg_Id")
    f: dict = {"msg_id": msg_id}
    f["pk_total"] = r.uint(1, "Pk_total")
    f["pk_number"] = r.uint(1, "Pk_number")
    f["registered_delivery"] = r.uint(1, "Registered_Delivery")
    f["msg_level"] = r.uint(1, "Msg_level")
    f["service_id"] = r.text(10, "Service_Id")
    f["fee_user_type"] = r.uint(1, "Fee_UserType")
    f["fee_terminal_id"] = r.text(tid, "Fee_terminal_Id")
    if v3:
        f["fee_terminal_type"] = r.uint(1, "Fee_terminal_type")
    f["tp_pid"] = r.uint(1, "TP_pId")
    f["tp_udhi"] = r.uint(1, "TP_udhi")
    f["msg_fmt"] = r.uint(1, "Msg_Fmt")
    f["msg_src"] = r.text(6, "Msg_src")
    f["fee_type"] = r.text(2, "FeeType")
    f["fee_code"] = r.text(6, "FeeCode")
    f["valid_time"] = r.text(17, "ValId_Time")
    f["at_time"] = r.text(17, "At_Time")
    f["src_id"] = r.text(21, "Src_Id")
    count = r.uint(1, "DestUsr_tl")
    if not 1 <= count <= MAX_DESTINATIONS:
        raise r.fail(f"DestUsr_tl {count} outside 1..{MAX_DESTINATIONS}")
    f["dest_terminal_ids"] = tuple(r.text(tid, "Dest_terminal_Id") for _ in range(count))
    if v3:
        f["dest_terminal_type"] = r.uint(1, "Dest_terminal_type")
    f["msg_content"] = _content(r, f["msg_fmt"])
    tail = r.text(20 if v3 else 8, "LinkID" if v3 else "Reserve")
    if v3:
        f["link_id"] = tail
    return Submit(**f)


def _content(r: FieldReader, msg_fmt: int, registered: int = 0) -> bytes:
    length = r.uint(1, "Msg_Length")
    if not registered and length > _content_limit(msg_fmt):
        raise r.fail(f"Msg_Length {length} above the limit", Result.TOO_LONG)
    return r.take(length, "Msg_Content")


def decode_report(content: bytes, version: int = Version.V30) -> StatusReport:
    """The status report in a DELIVER's Msg_Content; PduError when it has the wrong size."""
    r = FieldReader(content, CommandId.DELIVER, 0)
    if len(content) != report_size(version):
        raise r.fail(f"status report of {len(content)} octets, expected {report_size(version)}")
    return StatusReport(r.uint(8, "Msg_Id"), r.text(7, "Stat"), r.text(10, "Submit_time"),
                        r.text(10, "Done_time"), r.text(terminal_id_size(version), "Dest_terminal_Id"),
                        r.uint(4, "SMSC_sequence"))


def _decode_deliver(r: FieldReader, version: int) -> Deliver:
    v3 = version == Version.V30
    msg_id = r.msg_id = r.uint(8, "Msg_Id")
    dest_id = r.text(21, "Dest_Id")
    service_id = r.text(10, "Service_Id")
    tp_pid, tp_udhi, msg_fmt = r.uint(1, "TP_pid"), r.uint(1, "TP_udhi"), r.uint(1, "Msg_Fmt")
    src = r.text(terminal_id_size(version), "Src_terminal_Id")
    src_type = r.uint(1, "Src_terminal_type") if v3 else 0
    registered = r.uint(1, "Registered_Delivery")
    content = _content(r, msg_fmt, registered)
    link_id = r.text(20 if v3 else 8, "LinkID" if v3 else "Reserved")
    report = None
    if registered == 1:
        try:
            report = decode_report(content, version)
        except PduError as e:
            raise r.fail(str(e)) from None
    return Deliver(msg_id=msg_id, dest_id=dest_id, src_terminal_id=src, msg_content=content,
                   service_id=service_id, tp_pid=tp_pid, tp_udhi=tp_udhi, msg_fmt=msg_fmt,
                   src_terminal_type=src_type, registered_delivery=registered,
                   link_id=link_id if v3 else "", report=report)


def max_frame_length(version: int = Version.V30) -> int:
    """The longest legal PDU: a SUBMIT to 100 terminals with the longest content."""
    tid = terminal_id_size(version)
    v3 = version == Version.V30
    fixed = 8 + 1 + 1 + 1 + 1 + 10 + 1 + tid + 1 + 1 + 1 + 6 + 2 + 6 + 17 + 17 + 21 + 1
    fixed += (1 + 1 + 20) if v3 else 8
    return HEADER_LENGTH + fixed + MAX_DESTINATIONS * tid + 1 + MAX_ASCII_CONTENT
