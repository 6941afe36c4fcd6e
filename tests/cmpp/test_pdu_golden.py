"""Golden vectors for the CMPP codec, built octet by octet from the layouts of the CMPP 2.0
and 3.0 specifications with struct.pack and hashlib in the test, independently of
gateway.cmpp.pdu: every PDU must encode to exactly these bytes and decode back."""
from __future__ import annotations

import hashlib
import struct

import pytest

from gateway.cmpp.auth import authenticator_source, authenticator_ismg
from gateway.cmpp.msgid import MsgIdParts, pack_msg_id, parse_msg_id
from gateway.cmpp.pdu import (
    ActiveTestResp,
    Cancel,
    CommandId,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    Empty,
    Pdu,
    PduError,
    Query,
    StatusReport,
    Submit,
    SubmitResp,
    Version,
    decode,
    encode,
)

SP_ID = "901234"
SECRET = "s3cret"
STAMP = "0704123456"  # 4 July, 12:34:56


def octets(text: str, size: int) -> bytes:
    """A fixed-size Octet String field: ASCII, NUL-padded on the right."""
    return text.encode("ascii").ljust(size, b"\0")


def frame(command_id: int, sequence: int, body: bytes) -> bytes:
    return struct.pack(">III", 12 + len(body), command_id, sequence) + body


def roundtrip(pdu: Pdu, wire: bytes, version: int) -> None:
    assert encode(pdu, version) == wire
    assert decode(wire, version) == pdu


AUTH_SOURCE = hashlib.md5(SP_ID.encode() + b"\0" * 9 + SECRET.encode() + STAMP.encode()).digest()


def test_authenticator_source_is_md5_of_sp_id_nine_zeros_secret_and_timestamp():
    assert authenticator_source(SP_ID, SECRET, STAMP) == AUTH_SOURCE


@pytest.mark.parametrize("version", [0x20, 0x30])
def test_connect_is_sp_id_authenticator_version_and_timestamp_as_uint32(version):
    body = octets(SP_ID, 6) + AUTH_SOURCE + struct.pack(">BI", version, 704123456)
    wire = frame(0x00000001, 7, body)
    assert len(wire) == 39
    roundtrip(Pdu(CommandId.CONNECT, 7, Connect(SP_ID, AUTH_SOURCE, version, 704123456)), wire, version)


def test_connect_resp_2_0_has_a_one_octet_status_and_md5_of_status_auth_secret():
    auth_ismg = hashlib.md5(b"\x00" + AUTH_SOURCE + SECRET.encode()).digest()
    wire = frame(0x80000001, 7, struct.pack(">B", 0) + auth_ismg + b"\x20")
    assert len(wire) == 30
    assert authenticator_ismg(0, AUTH_SOURCE, SECRET, Version.V20) == auth_ismg
    roundtrip(Pdu(CommandId.CONNECT_RESP, 7, ConnectResp(0, auth_ismg, 0x20)), wire, Version.V20)


def test_connect_resp_3_0_has_a_four_octet_status_also_inside_the_md5():
    auth_ismg = hashlib.md5(b"\x00\x00\x00\x00" + AUTH_SOURCE + SECRET.encode()).digest()
    wire = frame(0x80000001, 7, struct.pack(">I", 0) + auth_ismg + b"\x30")
    assert len(wire) == 33
    assert authenticator_ismg(0, AUTH_SOURCE, SECRET, Version.V30) == auth_ismg
    roundtrip(Pdu(CommandId.CONNECT_RESP, 7, ConnectResp(0, auth_ismg, 0x30)), wire, Version.V30)


def test_connect_resp_3_0_refusal_status_3_decodes():
    wire = frame(0x80000001, 1, struct.pack(">I", 3) + b"\0" * 16 + b"\x30")
    assert decode(wire, Version.V30).body.status == 3


SUBMIT_TEXT = b"STOCK X100: 250"


def submit_2_0_body(dest: str = "13800138000") -> bytes:
    return (
        struct.pack(">QBBBB", 0, 1, 1, 1, 0)  # Msg_Id, Pk_total, Pk_number, Registered_Delivery, Msg_level
        + octets("MERP", 10)  # Service_Id
        + struct.pack(">B", 2) + octets("", 21)  # Fee_UserType, Fee_terminal_Id
        + struct.pack(">BBB", 0, 0, 0)  # TP_pId, TP_udhi, Msg_Fmt
        + octets(SP_ID, 6) + octets("01", 2) + octets("000000", 6)  # Msg_src, FeeType, FeeCode
        + octets("", 17) + octets("", 17)  # ValId_Time, At_Time
        + octets("106571234501", 21)  # Src_Id
        + struct.pack(">B", 1) + octets(dest, 21)  # DestUsr_tl, Dest_terminal_Id
        + struct.pack(">B", len(SUBMIT_TEXT)) + SUBMIT_TEXT
        + b"\0" * 8  # Reserve
    )


def submit_3_0_body(dest: str = "13800138000") -> bytes:
    return (
        struct.pack(">QBBBB", 0, 1, 1, 1, 0)
        + octets("MERP", 10)
        + struct.pack(">B", 2) + octets("", 32) + struct.pack(">B", 0)  # + Fee_terminal_type
        + struct.pack(">BBB", 0, 0, 0)
        + octets(SP_ID, 6) + octets("01", 2) + octets("000000", 6)
        + octets("", 17) + octets("", 17)
        + octets("106571234501", 21)
        + struct.pack(">B", 1) + octets(dest, 32) + struct.pack(">B", 0)  # + Dest_terminal_type
        + struct.pack(">B", len(SUBMIT_TEXT)) + SUBMIT_TEXT
        + octets("", 20)  # LinkID
    )


SUBMIT = Submit(dest_terminal_ids=("13800138000",), msg_content=SUBMIT_TEXT, registered_delivery=1,
                service_id="MERP", fee_user_type=2, msg_src=SP_ID, src_id="106571234501")


def test_submit_2_0_layout():
    wire = frame(0x00000004, 9, submit_2_0_body())
    assert len(wire) == 12 + 8 + 4 + 10 + 1 + 21 + 3 + 6 + 2 + 6 + 34 + 21 + 1 + 21 + 1 + len(SUBMIT_TEXT) + 8
    roundtrip(Pdu(CommandId.SUBMIT, 9, SUBMIT), wire, Version.V20)


def test_submit_3_0_layout_has_32_octet_terminals_types_and_link_id():
    wire = frame(0x00000004, 9, submit_3_0_body())
    assert len(wire) == 12 + 8 + 4 + 10 + 1 + 32 + 1 + 3 + 6 + 2 + 6 + 34 + 21 + 1 + 32 + 1 + 1 + len(SUBMIT_TEXT) + 20
    roundtrip(Pdu(CommandId.SUBMIT, 9, SUBMIT), wire, Version.V30)


MSG_ID = pack_msg_id(MsgIdParts(7, 4, 12, 34, 56, 0x1234, 42))


def test_msg_id_bit_layout_month_day_hour_minute_second_gateway_sequence():
    expected = (7 << 60) | (4 << 55) | (12 << 50) | (34 << 44) | (56 << 38) | (0x1234 << 16) | 42
    assert MSG_ID == expected
    assert parse_msg_id(expected) == MsgIdParts(7, 4, 12, 34, 56, 0x1234, 42)


def test_a_msg_id_part_too_big_for_its_bits_is_refused():
    with pytest.raises(ValueError):
        pack_msg_id(MsgIdParts(16, 1, 1, 1, 1, 1, 1))


@pytest.mark.parametrize("version,size", [(0x20, 1), (0x30, 4)])
def test_submit_resp_result_is_one_octet_in_2_0_and_four_in_3_0(version, size):
    result = b"\x08" if size == 1 else b"\x00\x00\x00\x08"
    wire = frame(0x80000004, 9, struct.pack(">Q", MSG_ID) + result)
    roundtrip(Pdu(CommandId.SUBMIT_RESP, 9, SubmitResp(MSG_ID, 8)), wire, version)


MO_TEXT = "库存 X100".encode("utf-16-be")


def test_deliver_3_0_mo_in_ucs2():
    body = (
        struct.pack(">Q", MSG_ID) + octets("106571234501", 21) + octets("", 10)
        + struct.pack(">BBB", 0, 0, 8)  # TP_pid, TP_udhi, Msg_Fmt
        + octets("13800138000", 32) + struct.pack(">B", 0)  # Src_terminal_Id, Src_terminal_type
        + struct.pack(">BB", 0, len(MO_TEXT)) + MO_TEXT  # Registered_Delivery, Msg_Length
        + octets("", 20)  # LinkID
    )
    wire = frame(0x00000005, 3, body)
    pdu = Pdu(CommandId.DELIVER, 3, Deliver(msg_id=MSG_ID, dest_id="106571234501",
                                            src_terminal_id="13800138000", msg_content=MO_TEXT,
                                            msg_fmt=8))
    roundtrip(pdu, wire, Version.V30)


def test_deliver_2_0_mo_in_gbk():
    text = "库存".encode("gbk")
    body = (
        struct.pack(">Q", MSG_ID) + octets("106571234501", 21) + octets("", 10)
        + struct.pack(">BBB", 0, 0, 15) + octets("13800138000", 21)
        + struct.pack(">BB", 0, len(text)) + text + b"\0" * 8
    )
    pdu = decode(frame(0x00000005, 3, body), Version.V20)
    assert (pdu.body.msg_fmt, pdu.body.msg_content, pdu.body.src_terminal_id) == (15, text, "13800138000")


def report_content(version: int, stat: str = "DELIVRD") -> bytes:
    tid = 21 if version == 0x20 else 32
    return (struct.pack(">Q", MSG_ID) + octets(stat, 7) + octets("2507041234", 10)
            + octets("2507041235", 10) + octets("13800138000", tid) + struct.pack(">I", 99))


@pytest.mark.parametrize("version,size", [(0x20, 60), (0x30, 71)])
def test_a_status_report_is_60_octets_in_2_0_and_71_in_3_0(version, size):
    content = report_content(version)
    assert len(content) == size
    tid = 21 if version == 0x20 else 32
    body = (struct.pack(">Q", 555) + octets("106571234501", 21) + octets("", 10)
            + struct.pack(">BBB", 0, 0, 0) + octets("13800138000", tid)
            + (struct.pack(">B", 0) if version == 0x30 else b"")
            + struct.pack(">BB", 1, size) + content
            + (octets("", 20) if version == 0x30 else b"\0" * 8))
    wire = frame(0x00000005, 4, body)
    report = StatusReport(MSG_ID, "DELIVRD", "2507041234", "2507041235", "13800138000", 99)
    pdu = Pdu(CommandId.DELIVER, 4, Deliver(msg_id=555, dest_id="106571234501",
                                            src_terminal_id="13800138000", report=report))
    assert encode(pdu, version) == wire
    decoded = decode(wire, version)
    assert decoded.body.report == report
    assert decoded.body.registered_delivery == 1


def test_a_status_report_of_the_wrong_size_is_a_structure_error():
    content = report_content(0x30)[:-1]
    body = (struct.pack(">Q", 555) + octets("1065", 21) + octets("", 10) + b"\0\0\0"
            + octets("138", 32) + b"\0" + struct.pack(">BB", 1, len(content)) + content + octets("", 20))
    with pytest.raises(PduError) as caught:
        decode(frame(0x00000005, 4, body), Version.V30)
    assert (caught.value.result, caught.value.msg_id) == (1, 555)


@pytest.mark.parametrize("version", [0x20, 0x30])
def test_deliver_resp_carries_the_msg_id_and_result(version):
    result = b"\x00" if version == 0x20 else b"\0\0\0\0"
    roundtrip(Pdu(CommandId.DELIVER_RESP, 4, DeliverResp(MSG_ID, 0)),
              frame(0x80000005, 4, struct.pack(">Q", MSG_ID) + result), version)


def test_active_test_is_a_bare_header_and_its_resp_has_one_reserved_octet():
    roundtrip(Pdu(CommandId.ACTIVE_TEST, 5, Empty()), struct.pack(">III", 12, 8, 5), Version.V30)
    roundtrip(Pdu(CommandId.ACTIVE_TEST_RESP, 5, ActiveTestResp(0)),
              struct.pack(">IIIB", 13, 0x80000008, 5, 0), Version.V30)


def test_terminate_and_its_resp_are_bare_headers():
    roundtrip(Pdu(CommandId.TERMINATE, 6, Empty()), struct.pack(">III", 12, 2, 6), Version.V20)
    roundtrip(Pdu(CommandId.TERMINATE_RESP, 6, Empty()), struct.pack(">III", 12, 0x80000002, 6),
              Version.V20)


def test_query_and_cancel_decode():
    query = frame(0x00000006, 1, octets("20250704", 8) + b"\x01" + octets("MERP", 10) + b"\0" * 8)
    assert decode(query, Version.V30).body == Query("20250704", 1, "MERP")
    cancel = frame(0x00000007, 2, struct.pack(">Q", MSG_ID))
    assert decode(cancel, Version.V20).body == Cancel(MSG_ID)


def test_an_unknown_command_id_is_a_clear_error():
    with pytest.raises(PduError) as caught:
        decode(struct.pack(">III", 12, 0x99, 1))
    assert caught.value.result == 2


def test_a_ucs2_content_above_140_octets_is_refused_on_encode_and_answered_result_6_on_decode():
    with pytest.raises(ValueError):
        encode(Pdu(CommandId.SUBMIT, 1, Submit(("138",), b"x" * 141, msg_fmt=8)))
    body = bytearray(submit_3_0_body())
    assert body[58] == 0  # Msg_Fmt, after Msg_Id..Fee_terminal_type, TP_pId and TP_udhi
    body[58] = 8
    cut = len(body) - 20 - len(SUBMIT_TEXT) - 1
    body[cut:cut + 1 + len(SUBMIT_TEXT)] = bytes([141]) + b"x" * 141
    with pytest.raises(PduError) as caught:
        decode(frame(0x00000004, 1, bytes(body)), Version.V30)
    assert caught.value.result == 6


def test_a_field_longer_than_its_octets_cannot_be_encoded():
    with pytest.raises(ValueError):
        encode(Pdu(CommandId.SUBMIT, 1, Submit(("1" * 22,), b"x")), Version.V20)


def test_the_codec_modules_import_only_struct_enum_dataclasses_and_each_other():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gateway" / "cmpp"
    codec = {"gateway.cmpp.pdu", "gateway.cmpp.spec", "gateway.cmpp.fields"}
    for name in ("pdu.py", "spec.py", "fields.py", "msgid.py", "framing.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert modules <= {"__future__", "struct", "enum", "dataclasses", *codec}, name
