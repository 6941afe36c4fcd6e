"""SMPP 3.4 PDUs as frozen dataclasses, and their wire codec.

Pure: bytes in, dataclasses out, and back. A bad field raises `PduError` carrying the
SMPP status to answer with, so the caller can reply and carry on (STYLE.md, "two errors").
"""
from __future__ import annotations

import enum
import struct
from dataclasses import MISSING, dataclass, field

HEADER = struct.Struct(">LLLL")
HEADER_LENGTH = 16
MAX_SEQUENCE = 0x7FFFFFFF
RESPONSE_BIT = 0x80000000

# Vendor-specific TLV in which our simulator puts its id of an MO (ASCII, no NUL).
MERP_MO_ID_TAG = 0x1400


class CommandId(enum.IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103


_COMMAND_IDS: dict[int, CommandId] = {c.value: c for c in CommandId}


class Status(enum.IntEnum):
    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


class Tag(enum.IntEnum):
    DEST_ADDR_SUBUNIT = 0x0005
    SOURCE_ADDR_SUBUNIT = 0x000D
    PAYLOAD_TYPE = 0x0019
    RECEIPTED_MESSAGE_ID = 0x001E
    USER_MESSAGE_REFERENCE = 0x0204
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427


# Fixed value lengths of the TLVs we read, checked on decode (a wrong one: ESME_RINVPARLEN).
_TLV_LENGTHS = {
    Tag.USER_MESSAGE_REFERENCE: 2,
    Tag.SOURCE_PORT: 2,
    Tag.DESTINATION_PORT: 2,
    Tag.SAR_MSG_REF_NUM: 2,
    Tag.SAR_TOTAL_SEGMENTS: 1,
    Tag.SAR_SEGMENT_SEQNUM: 1,
    Tag.SC_INTERFACE_VERSION: 1,
    Tag.NETWORK_ERROR_CODE: 3,
    Tag.MESSAGE_STATE: 1,
}

MAX_SHORT_MESSAGE = 254


class PduError(Exception):
    """A PDU that cannot be decoded (or encoded); `status` is the SMPP answer to give."""

    def __init__(self, status: int, command_id: int, sequence: int, message: str = ""):
        super().__init__(f"{message} (status 0x{status:02X}, command 0x{command_id:08X}, "
                         f"sequence {sequence})")
        self.status = status
        self.command_id = command_id
        self.sequence = sequence
        self.message = message


_NO_DEFAULT = object()


def _quick_init(cls):
    """Give a frozen dataclass an __init__ with the same signature that fills the
    instance's __dict__ directly: the generated one calls object.__setattr__ once per
    field, which for Sm (18 fields) cost more than decoding its bytes. Instances are the
    same (fields, equality, hash, repr, still frozen against assignment)."""
    params, body, namespace = [], [], {"_NO_DEFAULT": _NO_DEFAULT}
    for f in cls.__dataclass_fields__.values():
        if f.default is not MISSING:
            namespace[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:
            namespace[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_NO_DEFAULT")
            body.append(f"    if {f.name} is _NO_DEFAULT: {f.name} = _f_{f.name}()")
        else:
            params.append(f.name)
        body.append(f"    d[{f.name!r}] = {f.name}")
    source = f"def __init__(self, {', '.join(params)}):\n    d = self.__dict__\n" + "\n".join(body)
    exec(source, namespace)  # noqa: S102 -- as dataclasses itself builds __init__
    namespace["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = namespace["__init__"]
    return cls


@_quick_init
@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


@dataclass(frozen=True)
class Bind:
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True)
class BindResp:
    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@_quick_init
@dataclass(frozen=True)
class Sm:
    """The body of submit_sm and deliver_sm (they share the layout)."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: tuple[Tlv, ...] = ()

    def tlv(self, tag: int) -> bytes | None:
        """The value of the first TLV with this tag, or None."""
        for item in self.tlvs:
            if item.tag == tag:
                return item.value
        return None


@dataclass(frozen=True)
class SmResp:
    message_id: str = ""


@dataclass(frozen=True)
class Empty:
    pass


Body = Bind | BindResp | Sm | SmResp | Empty

_BODY_TYPES: dict[int, type] = {
    CommandId.BIND_RECEIVER: Bind,
    CommandId.BIND_TRANSMITTER: Bind,
    CommandId.BIND_TRANSCEIVER: Bind,
    CommandId.BIND_RECEIVER_RESP: BindResp,
    CommandId.BIND_TRANSMITTER_RESP: BindResp,
    CommandId.BIND_TRANSCEIVER_RESP: BindResp,
    CommandId.SUBMIT_SM: Sm,
    CommandId.DELIVER_SM: Sm,
    CommandId.SUBMIT_SM_RESP: SmResp,
    CommandId.DELIVER_SM_RESP: SmResp,
    CommandId.ENQUIRE_LINK: Empty,
    CommandId.ENQUIRE_LINK_RESP: Empty,
    CommandId.UNBIND: Empty,
    CommandId.UNBIND_RESP: Empty,
    CommandId.GENERIC_NACK: Empty,
}


@_quick_init
@dataclass(frozen=True)
class Pdu:
    command_id: CommandId
    sequence: int
    status: int = 0
    body: Body = field(default_factory=Empty)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    def response(self, status: int = 0, body: Body | None = None) -> Pdu:
        """The matching *_resp with the same sequence (default body for its type)."""
        if self.is_response:
            raise ValueError(f"{self.command_id.name} is itself a response")
        resp_id = _COMMAND_IDS.get(self.command_id | RESPONSE_BIT)
        if resp_id is None:
            raise ValueError(f"{self.command_id.name} has no response")
        if body is None:
            body = _BODY_TYPES.get(resp_id, Empty)()
        return Pdu(resp_id, self.sequence, status, body)


def generic_nack(sequence: int, status: int) -> Pdu:
    return Pdu(CommandId.GENERIC_NACK, sequence, status)


def deliver_sm_resp(sequence: int, status: int) -> bytes:
    """The encoded deliver_sm_resp (empty message_id), as `encode(pdu.response(status))`
    gives it: packed at once, since one goes back for every MO and every receipt."""
    return HEADER.pack(HEADER.size + 1, CommandId.DELIVER_SM_RESP, status, sequence) + b"\0"


# --- encoding ---------------------------------------------------------------------------

# (field, maximum size including the NUL, status when bad)
_BIND_STRINGS = {
    "system_id": (16, Status.ESME_RINVSYSID),
    "password": (9, Status.ESME_RINVPASWD),
    "system_type": (13, Status.ESME_RINVSYSTYP),
    "address_range": (41, Status.ESME_RINVPARLEN),
}
_SM_STRINGS = {
    "service_type": (6, Status.ESME_RINVSERTYP),
    "source_addr": (21, Status.ESME_RINVSRCADR),
    "destination_addr": (21, Status.ESME_RINVDSTADR),
    "schedule_delivery_time": (17, Status.ESME_RINVSCHED),
    "validity_period": (17, Status.ESME_RINVEXPIRY),
}
_SYSTEM_ID_RESP = (16, Status.ESME_RINVSYSID)
_MESSAGE_ID = (65, Status.ESME_RINVMSGID)


class _Writer:
    def __init__(self, pdu: Pdu):
        self.pdu = pdu
        self.parts: list[bytes] = []

    def fail(self, status: int, message: str) -> PduError:
        return PduError(status, self.pdu.command_id, self.pdu.sequence, message)

    def cstring(self, name: str, value: str, limit: tuple[int, int]) -> None:
        size, status = limit
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raise self.fail(status, f"{name} is not Latin-1 text") from None
        if b"\0" in raw or len(raw) + 1 > size:
            raise self.fail(status, f"{name} longer than {size - 1} octets or has NUL")
        self.parts.append(raw + b"\0")

    def octets(self, name: str, *values: int) -> None:
        for value in values:
            if not 0 <= value <= 0xFF:
                raise self.fail(Status.ESME_RINVPARLEN, f"{name} out of range: {value}")
        self.parts.append(bytes(values))

    def tlvs(self, tlvs: tuple[Tlv, ...]) -> None:
        for item in tlvs:
            if not 0 <= item.tag <= 0xFFFF or len(item.value) > 0xFFFF:
                raise self.fail(Status.ESME_RINVOPTPARSTREAM, f"bad TLV 0x{item.tag:X}")
            self.parts.append(struct.pack(">HH", item.tag, len(item.value)) + item.value)


def _encode_body(w: _Writer, body: Body) -> None:
    if isinstance(body, Bind):
        w.cstring("system_id", body.system_id, _BIND_STRINGS["system_id"])
        w.cstring("password", body.password, _BIND_STRINGS["password"])
        w.cstring("system_type", body.system_type, _BIND_STRINGS["system_type"])
        w.octets("bind", body.interface_version, body.addr_ton, body.addr_npi)
        w.cstring("address_range", body.address_range, _BIND_STRINGS["address_range"])
    elif isinstance(body, BindResp):
        w.cstring("system_id", body.system_id, _SYSTEM_ID_RESP)
        w.tlvs(body.tlvs)
    elif isinstance(body, SmResp):
        w.cstring("message_id", body.message_id, _MESSAGE_ID)
    elif isinstance(body, Sm):
        fast = _encode_sm_fast(body)
        if fast is not None:
            w.parts.append(fast)
            return
        if len(body.short_message) > MAX_SHORT_MESSAGE:
            raise w.fail(Status.ESME_RINVMSGLEN, "short_message longer than 254 octets")
        w.cstring("service_type", body.service_type, _SM_STRINGS["service_type"])
        w.octets("source_addr_ton/npi", body.source_addr_ton, body.source_addr_npi)
        w.cstring("source_addr", body.source_addr, _SM_STRINGS["source_addr"])
        w.octets("dest_addr_ton/npi", body.dest_addr_ton, body.dest_addr_npi)
        w.cstring("destination_addr", body.destination_addr, _SM_STRINGS["destination_addr"])
        w.octets("esm_class/protocol_id/priority_flag",
                 body.esm_class, body.protocol_id, body.priority_flag)
        w.cstring("schedule_delivery_time", body.schedule_delivery_time,
                  _SM_STRINGS["schedule_delivery_time"])
        w.cstring("validity_period", body.validity_period, _SM_STRINGS["validity_period"])
        w.octets("registered_delivery..sm_default_msg_id", body.registered_delivery,
                 body.replace_if_present_flag, body.data_coding, body.sm_default_msg_id,
                 len(body.short_message))
        w.parts.append(body.short_message)
        w.tlvs(body.tlvs)


def _encode_sm_fast(body: Sm) -> bytes | None:
    """The bytes `_encode_body` writes for a valid Sm, in one expression; None when a
    field is out of its limits, for the checked writer to raise the right error."""
    try:
        strings = [value.encode("latin-1") for value in (
            body.service_type, body.source_addr, body.destination_addr,
            body.schedule_delivery_time, body.validity_period)]
        octets = bytes((body.source_addr_ton, body.source_addr_npi, body.dest_addr_ton,
                        body.dest_addr_npi, body.esm_class, body.protocol_id,
                        body.priority_flag, body.registered_delivery,
                        body.replace_if_present_flag, body.data_coding,
                        body.sm_default_msg_id))
    except (UnicodeEncodeError, ValueError, TypeError):
        return None
    service_type, source, destination, schedule, validity = strings
    short_message = body.short_message
    if (len(service_type) > 5 or len(source) > 20 or len(destination) > 20
            or len(schedule) > 16 or len(validity) > 16 or len(short_message) > MAX_SHORT_MESSAGE
            or b"\0" in b"".join(strings)):
        return None
    tlvs = []
    for item in body.tlvs:
        if not 0 <= item.tag <= 0xFFFF or len(item.value) > 0xFFFF:
            return None
        tlvs.append(_TLV_HEADER.pack(item.tag, len(item.value)) + item.value)
    return b"".join((
        service_type, b"\0", octets[0:2], source, b"\0", octets[2:4], destination, b"\0",
        octets[4:7], schedule, b"\0", validity, b"\0", octets[7:11],
        bytes((len(short_message),)), short_message, *tlvs))


def encode(pdu: Pdu) -> bytes:
    """The wire bytes of `pdu`, header included.

    A response whose body is `Empty()` while its type has a body is sent with an empty
    body when its status is non-zero (as SMSCs do), else with the type's default body.
    """
    cid = int(pdu.command_id)
    expected = _BODY_TYPES.get(cid)
    if expected is None:
        raise PduError(Status.ESME_RINVCMDID, cid, pdu.sequence, "unsupported command")
    body = pdu.body
    if not isinstance(body, expected):
        if isinstance(body, Empty) and (cid & RESPONSE_BIT):
            body = body if pdu.status else expected()
        else:
            raise TypeError(f"{CommandId(cid).name} takes {expected.__name__}, "
                            f"not {type(body).__name__}")
    if not 0 <= pdu.sequence <= 0xFFFFFFFF or not 0 <= pdu.status <= 0xFFFFFFFF:
        raise PduError(Status.ESME_RINVCMDLEN, cid, pdu.sequence & 0xFFFFFFFF,
                       "sequence or status out of range")
    w = _Writer(pdu)
    _encode_body(w, body)
    payload = b"".join(w.parts)
    return HEADER.pack(HEADER_LENGTH + len(payload), cid, pdu.status, pdu.sequence) + payload


# --- decoding ---------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, command_id: int, sequence: int):
        self.data = data
        self.pos = 0
        self.command_id = command_id
        self.sequence = sequence

    def fail(self, status: int, message: str) -> PduError:
        return PduError(status, self.command_id, self.sequence, message)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def cstring(self, name: str, limit: tuple[int, int]) -> str:
        size, status = limit
        end = self.data.find(b"\0", self.pos, self.pos + size)
        if end < 0:
            if self.remaining < size:
                raise self.fail(Status.ESME_RINVCMDLEN, f"body ends inside {name}")
            raise self.fail(status, f"{name} longer than {size - 1} octets")
        value = self.data[self.pos:end].decode("latin-1")
        self.pos = end + 1
        return value

    def octets(self, name: str, count: int) -> bytes:
        if self.remaining < count:
            raise self.fail(Status.ESME_RINVCMDLEN, f"body ends inside {name}")
        value = self.data[self.pos:self.pos + count]
        self.pos += count
        return value

    def tlvs(self) -> tuple[Tlv, ...]:
        items = []
        while self.remaining:
            if self.remaining < 4:
                raise self.fail(Status.ESME_RINVOPTPARSTREAM, "truncated TLV header")
            tag, length = struct.unpack_from(">HH", self.data, self.pos)
            self.pos += 4
            if length > self.remaining:
                raise self.fail(Status.ESME_RINVOPTPARSTREAM,
                                f"TLV 0x{tag:04X} runs past the end of the PDU")
            expected = _TLV_LENGTHS.get(tag)
            if expected is not None and length != expected:
                raise self.fail(Status.ESME_RINVPARLEN,
                                f"TLV 0x{tag:04X} has length {length}, wants {expected}")
            items.append(Tlv(tag, self.data[self.pos:self.pos + length]))
            self.pos += length
        return tuple(items)

    def end(self) -> None:
        if self.remaining:
            raise self.fail(Status.ESME_RINVCMDLEN, f"{self.remaining} octets after the body")


def _decode_bind(r: _Reader) -> Bind:
    system_id = r.cstring("system_id", _BIND_STRINGS["system_id"])
    password = r.cstring("password", _BIND_STRINGS["password"])
    system_type = r.cstring("system_type", _BIND_STRINGS["system_type"])
    version, ton, npi = r.octets("interface_version/addr_ton/addr_npi", 3)
    address_range = r.cstring("address_range", _BIND_STRINGS["address_range"])
    r.end()
    return Bind(system_id, password, system_type, version, ton, npi, address_range)


def _decode_sm_fast(data: bytes) -> Sm | None:
    """The common case of `_decode_sm` in one pass over local variables; None for a body
    it does not take as it is (a bad or truncated field, an odd TLV), which the checked
    path then reads to raise the right error. Same limits, same result."""
    end_of_data = len(data)
    find = data.find
    end = find(b"\0", 0, 6)
    if end < 0:
        return None
    service_type = data[:end].decode("latin-1")
    pos = end + 3
    end = find(b"\0", pos, pos + 21)
    if end < 0 or pos > end_of_data:
        return None
    src_ton, src_npi = data[pos - 2], data[pos - 1]
    source_addr = data[pos:end].decode("latin-1")
    pos = end + 3
    end = find(b"\0", pos, pos + 21)
    if end < 0 or pos > end_of_data:
        return None
    dst_ton, dst_npi = data[pos - 2], data[pos - 1]
    destination_addr = data[pos:end].decode("latin-1")
    pos = end + 4
    end = find(b"\0", pos, pos + 17)
    if end < 0 or pos > end_of_data:
        return None
    esm_class, protocol_id, priority_flag = data[pos - 3], data[pos - 2], data[pos - 1]
    schedule = data[pos:end].decode("latin-1")
    pos = end + 1
    end = find(b"\0", pos, pos + 17)
    if end < 0:
        return None
    validity = data[pos:end].decode("latin-1")
    pos = end + 6
    if pos > end_of_data:
        return None
    registered, replace, coding, default_id, sm_length = data[pos - 5:pos]
    if sm_length > MAX_SHORT_MESSAGE or pos + sm_length > end_of_data:
        return None
    short_message = data[pos:pos + sm_length]
    pos += sm_length
    tlvs = []
    while pos < end_of_data:
        if end_of_data - pos < 4:
            return None
        tag, length = _TLV_HEADER.unpack_from(data, pos)
        pos += 4
        expected = _TLV_LENGTHS.get(tag)
        if pos + length > end_of_data or (expected is not None and length != expected):
            return None
        tlvs.append(Tlv(tag, data[pos:pos + length]))
        pos += length
    return Sm(service_type, src_ton, src_npi, source_addr, dst_ton, dst_npi,
              destination_addr, esm_class, protocol_id, priority_flag, schedule, validity,
              registered, replace, coding, default_id, short_message, tuple(tlvs))


_TLV_HEADER = struct.Struct(">HH")


def _decode_sm(r: _Reader) -> Sm:
    if r.pos == 0:
        sm = _decode_sm_fast(r.data)
        if sm is not None:
            return sm
    service_type = r.cstring("service_type", _SM_STRINGS["service_type"])
    src_ton, src_npi = r.octets("source_addr_ton/npi", 2)
    source_addr = r.cstring("source_addr", _SM_STRINGS["source_addr"])
    dst_ton, dst_npi = r.octets("dest_addr_ton/npi", 2)
    destination_addr = r.cstring("destination_addr", _SM_STRINGS["destination_addr"])
    esm_class, protocol_id, priority_flag = r.octets("esm_class..priority_flag", 3)
    schedule = r.cstring("schedule_delivery_time", _SM_STRINGS["schedule_delivery_time"])
    validity = r.cstring("validity_period", _SM_STRINGS["validity_period"])
    registered, replace, coding, default_id, sm_length = r.octets(
        "registered_delivery..sm_length", 5)
    if sm_length > MAX_SHORT_MESSAGE:
        raise r.fail(Status.ESME_RINVMSGLEN, f"sm_length {sm_length} over 254")
    if sm_length > r.remaining:
        raise r.fail(Status.ESME_RINVMSGLEN, "short_message runs past the end of the PDU")
    short_message = r.octets("short_message", sm_length)
    tlvs = r.tlvs()
    return Sm(service_type, src_ton, src_npi, source_addr, dst_ton, dst_npi,
              destination_addr, esm_class, protocol_id, priority_flag, schedule, validity,
              registered, replace, coding, default_id, short_message, tlvs)


def decode(frame: bytes) -> Pdu:
    """Decode one whole PDU (16-byte header included), as `split_frames` yields it."""
    if len(frame) < HEADER_LENGTH:
        raise PduError(Status.ESME_RINVCMDLEN, 0, 0, "shorter than the PDU header")
    length, cid, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise PduError(Status.ESME_RINVCMDLEN, cid, sequence,
                       f"command_length {length} but {len(frame)} octets")
    expected = _BODY_TYPES.get(cid)
    if expected is None:
        raise PduError(Status.ESME_RINVCMDID, cid, sequence, "unsupported command_id")
    command_id = _COMMAND_IDS[cid]  # a dict lookup: CommandId(cid) costs more than the rest
    r = _Reader(frame[HEADER_LENGTH:], cid, sequence)
    if (cid & RESPONSE_BIT) and not r.remaining:
        # An error response (and some SMSCs' bind_resp) carries no body at all.
        return Pdu(command_id, sequence, status, Empty())
    body: Body
    if expected is Bind:
        body = _decode_bind(r)
    elif expected is BindResp:
        system_id = r.cstring("system_id", _SYSTEM_ID_RESP)
        body = BindResp(system_id, r.tlvs())
    elif expected is SmResp:
        message_id = r.cstring("message_id", _MESSAGE_ID)
        r.end()
        body = SmResp(message_id)
    elif expected is Sm:
        body = _decode_sm(r)
    else:
        r.end()
        body = Empty()
    return Pdu(command_id, sequence, status, body)
