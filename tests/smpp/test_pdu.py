"""The SMPP codec against an independent implementation (smpplib) and the 3.4 spec."""
from __future__ import annotations

import ast
import struct
from pathlib import Path

import pytest
import smpplib.command
import smpplib.smpp

from gateway.smpp import pdu as P
from gateway.smpp.pdu import (
    Bind,
    BindResp,
    CommandId,
    Empty,
    Pdu,
    PduError,
    Sm,
    SmResp,
    Status,
    Tag,
    Tlv,
    decode,
    encode,
)


def smpplib_bytes(name: str, sequence: int, **kwargs) -> bytes:
    """smpplib ignores a `sequence` keyword on requests (it asks its client), so set it."""
    command = smpplib.command.factory(name, sequence=sequence, **kwargs)
    command.sequence = sequence
    return command.generate()


def smpplib_parse(data: bytes):
    # a dummy sequence keeps smpplib from asking its (absent) client for one
    return smpplib.smpp.parse_pdu(data, sequence=0, allow_unknown_opt_params=True)


# --- smpplib -> our decoder ----------------------------------------------------------


def test_bind_transceiver_from_smpplib_decodes():
    data = smpplib_bytes("bind_transceiver", sequence=1, system_id="merp",
                         password="secret", system_type="ERP", addr_ton=1, addr_npi=1,
                         address_range="")
    assert decode(data) == Pdu(CommandId.BIND_TRANSCEIVER, 1, 0, Bind(
        "merp", "secret", "ERP", 0x34, 1, 1, ""))


def test_bind_transceiver_resp_from_smpplib_decodes_with_interface_version_tlv():
    data = smpplib_bytes("bind_transceiver_resp", sequence=1, system_id="SMSC",
                         sc_interface_version=0x34)
    got = decode(data)
    assert got == Pdu(CommandId.BIND_TRANSCEIVER_RESP, 1, 0,
                      BindResp("SMSC", (Tlv(Tag.SC_INTERFACE_VERSION, b"\x34"),)))


def test_submit_sm_from_smpplib_decodes():
    data = smpplib_bytes(
        "submit_sm", sequence=7, source_addr_ton=0, source_addr_npi=0, source_addr="1234",
        dest_addr_ton=1, dest_addr_npi=1, destination_addr="8613800138000", esm_class=0x40,
        registered_delivery=1, data_coding=8, short_message=b"\x05\x00\x03\x2a\x02\x01\x00A",
        sar_msg_ref_num=0x1234, sar_total_segments=2, sar_segment_seqnum=1)
    got = decode(data)
    assert got.command_id is CommandId.SUBMIT_SM and got.sequence == 7
    assert got.body == Sm(
        source_addr="1234", dest_addr_ton=1, dest_addr_npi=1,
        destination_addr="8613800138000", esm_class=0x40, registered_delivery=1,
        data_coding=8, short_message=b"\x05\x00\x03\x2a\x02\x01\x00A",
        tlvs=(Tlv(Tag.SAR_MSG_REF_NUM, b"\x12\x34"), Tlv(Tag.SAR_TOTAL_SEGMENTS, b"\x02"),
              Tlv(Tag.SAR_SEGMENT_SEQNUM, b"\x01")))
    assert got.body.tlv(Tag.SAR_TOTAL_SEGMENTS) == b"\x02"
    assert got.body.tlv(Tag.MESSAGE_PAYLOAD) is None


def test_submit_sm_resp_from_smpplib_decodes():
    data = smpplib_bytes("submit_sm_resp", sequence=7, message_id="0a1b2c")
    assert decode(data) == Pdu(CommandId.SUBMIT_SM_RESP, 7, 0, SmResp("0a1b2c"))


def test_deliver_sm_receipt_with_tlvs_from_smpplib_decodes():
    text = b"id:0a1b2c sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 " \
           b"stat:DELIVRD err:000 text:hello"
    data = smpplib_bytes("deliver_sm", sequence=99, source_addr="8613800138000",
                         destination_addr="1234", esm_class=0x04, short_message=text,
                         receipted_message_id="0a1b2c", message_state=2)
    got = decode(data)
    assert got.command_id is CommandId.DELIVER_SM
    assert got.body.short_message == text
    assert got.body.tlv(Tag.RECEIPTED_MESSAGE_ID) == b"0a1b2c\0"  # smpplib adds the NUL
    assert got.body.tlv(Tag.MESSAGE_STATE) == b"\x02"


def test_deliver_sm_with_message_payload_from_smpplib_decodes():
    payload = b"x" * 300
    data = smpplib_bytes("deliver_sm", sequence=3, source_addr="861", destination_addr="1",
                         message_payload=payload)
    got = decode(data)
    assert got.body.short_message == b""
    assert got.body.tlv(Tag.MESSAGE_PAYLOAD) == payload


def test_deliver_sm_resp_from_smpplib_decodes():
    data = smpplib_bytes("deliver_sm_resp", sequence=99)
    assert decode(data) == Pdu(CommandId.DELIVER_SM_RESP, 99, 0, SmResp(""))


@pytest.mark.parametrize("name, command_id", [
    ("enquire_link", CommandId.ENQUIRE_LINK),
    ("enquire_link_resp", CommandId.ENQUIRE_LINK_RESP),
    ("unbind", CommandId.UNBIND),
    ("unbind_resp", CommandId.UNBIND_RESP),
    ("generic_nack", CommandId.GENERIC_NACK),
])
def test_bodiless_pdus_from_smpplib_decode(name, command_id):
    data = smpplib_bytes(name, sequence=42)
    assert decode(data) == Pdu(command_id, 42, 0, Empty())


def test_error_response_from_smpplib_with_status_decodes():
    data = smpplib_bytes("submit_sm_resp", sequence=8, status=Status.ESME_RTHROTTLED)
    got = decode(data)
    assert got.status == Status.ESME_RTHROTTLED and got.sequence == 8


def test_error_response_with_empty_body_decodes_as_empty():
    data = struct.pack(">LLLL", 16, CommandId.SUBMIT_SM_RESP, Status.ESME_RMSGQFUL, 5)
    assert decode(data) == Pdu(CommandId.SUBMIT_SM_RESP, 5, Status.ESME_RMSGQFUL, Empty())
    bind = struct.pack(">LLLL", 16, CommandId.BIND_TRANSCEIVER_RESP, Status.ESME_RINVPASWD, 1)
    assert decode(bind).body == Empty()


# --- our encoder -> smpplib ----------------------------------------------------------


def test_our_bind_transceiver_parses_in_smpplib_and_matches_its_bytes():
    ours = encode(Pdu(CommandId.BIND_TRANSCEIVER, 1, 0, Bind("merp", "pw", "", 0x34, 0, 0)))
    theirs = smpplib_bytes("bind_transceiver", sequence=1, system_id="merp", password="pw",
                           system_type="", addr_ton=0, addr_npi=0, address_range="")
    assert ours == theirs
    parsed = smpplib_parse(ours)
    assert parsed.command == "bind_transceiver"
    assert parsed.system_id == b"merp" and parsed.password == b"pw"
    assert parsed.interface_version == 0x34


def test_our_submit_sm_parses_in_smpplib():
    body = Sm(source_addr="1234", dest_addr_ton=1, dest_addr_npi=1,
              destination_addr="8613800138000", esm_class=0x40, registered_delivery=1,
              data_coding=8, short_message=b"\x05\x00\x03\x01\x02\x01\x00h\x00i",
              tlvs=(Tlv(Tag.SAR_MSG_REF_NUM, b"\x00\x07"),))
    parsed = smpplib_parse(encode(Pdu(CommandId.SUBMIT_SM, 0x7FFFFFFF, 0, body)))
    assert parsed.command == "submit_sm" and parsed.sequence == 0x7FFFFFFF
    assert parsed.source_addr == b"1234" and parsed.destination_addr == b"8613800138000"
    assert (parsed.dest_addr_ton, parsed.esm_class, parsed.registered_delivery,
            parsed.data_coding) == (1, 0x40, 1, 8)
    assert parsed.short_message == body.short_message
    assert parsed.sar_msg_ref_num == 7


def test_our_deliver_sm_with_receipt_tlvs_parses_in_smpplib():
    body = Sm(source_addr="8613800138000", destination_addr="1234", esm_class=0x04,
              short_message=b"id:abc stat:UNDELIV err:001",
              tlvs=(Tlv(Tag.RECEIPTED_MESSAGE_ID, b"abc\0"), Tlv(Tag.MESSAGE_STATE, b"\x05"),
                    Tlv(Tag.MESSAGE_PAYLOAD, b"")))
    parsed = smpplib_parse(encode(Pdu(CommandId.DELIVER_SM, 12, 0, body)))
    assert parsed.command == "deliver_sm" and parsed.sequence == 12
    assert parsed.receipted_message_id == b"abc" and parsed.message_state == 5
    assert parsed.short_message == b"id:abc stat:UNDELIV err:001"


def test_our_responses_match_smpplib_bytes():
    assert encode(Pdu(CommandId.SUBMIT_SM_RESP, 9, 0, SmResp("77"))) == \
        smpplib_bytes("submit_sm_resp", sequence=9, message_id="77")
    assert encode(Pdu(CommandId.DELIVER_SM_RESP, 9)) == \
        smpplib_bytes("deliver_sm_resp", sequence=9)
    assert encode(Pdu(CommandId.BIND_TRANSCEIVER_RESP, 1, 0, BindResp("SMSC"))) == \
        smpplib_bytes("bind_transceiver_resp", sequence=1, system_id="SMSC")
    for name in ("enquire_link", "enquire_link_resp", "unbind", "unbind_resp",
                 "generic_nack"):
        ours = encode(Pdu(CommandId[name.upper()], 3))
        assert ours == smpplib_bytes(name, sequence=3), name


def test_enquire_link_is_the_spec_header_alone():
    assert encode(Pdu(CommandId.ENQUIRE_LINK, 1)).hex() == \
        "00000010" "00000015" "00000000" "00000001"


# --- round trips and helpers ---------------------------------------------------------


def test_every_supported_pdu_round_trips():
    pdus = [
        Pdu(CommandId.BIND_RECEIVER, 1, 0, Bind("a", "b", "c", 0x34, 1, 2, "^86")),
        Pdu(CommandId.BIND_TRANSMITTER_RESP, 2, 0, BindResp("x", (Tlv(0x0210, b"\x34"),))),
        Pdu(CommandId.DELIVER_SM, 3, 0, Sm(short_message=b"\x00" * 254,
                                           tlvs=(Tlv(P.MERP_MO_ID_TAG, b"mo-1"),))),
        Pdu(CommandId.SUBMIT_SM_RESP, 4, Status.ESME_RTHROTTLED, Empty()),
        Pdu(CommandId.GENERIC_NACK, 5, Status.ESME_RINVCMDID),
    ]
    for p in pdus:
        assert decode(encode(p)) == p


def test_response_helper_keeps_sequence_and_picks_the_resp():
    req = Pdu(CommandId.DELIVER_SM, 77, 0, Sm())
    resp = req.response(status=Status.ESME_RX_T_APPN)
    assert resp == Pdu(CommandId.DELIVER_SM_RESP, 77, Status.ESME_RX_T_APPN, SmResp())
    assert resp.is_response and not req.is_response
    with pytest.raises(ValueError):
        resp.response()


def test_codec_imports_only_the_standard_library_basics():
    tree = ast.parse(Path(P.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "struct", "enum", "dataclasses", "typing"}


# --- bad fields ----------------------------------------------------------------------


def header(cid: int, seq: int, body: bytes, status: int = 0) -> bytes:
    return struct.pack(">LLLL", 16 + len(body), cid, status, seq) + body


def sm_body(source=b"1", dest=b"2", sm_length=None, short=b"hi", tail=b"") -> bytes:
    n = len(short) if sm_length is None else sm_length
    return (b"\0" + b"\0\0" + source + b"\0" + b"\1\1" + dest + b"\0" + b"\0\0\0" +
            b"\0\0" + bytes([0, 0, 0, 0, n]) + short + tail)


@pytest.mark.parametrize("frame, status", [
    (header(CommandId.DELIVER_SM, 5, sm_body(source=b"1" * 21)), Status.ESME_RINVSRCADR),
    (header(CommandId.DELIVER_SM, 5, sm_body(dest=b"9" * 30)), Status.ESME_RINVDSTADR),
    (header(CommandId.DELIVER_SM, 5, sm_body(sm_length=200)), Status.ESME_RINVMSGLEN),
    (header(CommandId.DELIVER_SM, 5, sm_body(sm_length=255, short=b"x" * 255)),
     Status.ESME_RINVMSGLEN),
    (header(CommandId.DELIVER_SM, 5, sm_body(tail=b"\x04\x24\x00\x09abc")),
     Status.ESME_RINVOPTPARSTREAM),
    (header(CommandId.DELIVER_SM, 5, sm_body(tail=b"\x04\x24\x00")),
     Status.ESME_RINVOPTPARSTREAM),
    (header(CommandId.DELIVER_SM, 5, sm_body(tail=b"\x04\x27\x00\x02\x01\x02")),
     Status.ESME_RINVPARLEN),
    (header(CommandId.DELIVER_SM, 5, b"\0\0\0" + b"12"), Status.ESME_RINVCMDLEN),
    (header(CommandId.BIND_TRANSCEIVER, 5, b"x" * 16 + b"\0\0\0\x34\0\0\0"),
     Status.ESME_RINVSYSID),
    (header(CommandId.ENQUIRE_LINK, 5, b"junk"), Status.ESME_RINVCMDLEN),
    (header(0x12345678, 5, b""), Status.ESME_RINVCMDID),
    (header(CommandId.DATA_SM, 5, b""), Status.ESME_RINVCMDID),
    (header(CommandId.SUBMIT_SM_RESP, 5, b"abc"), Status.ESME_RINVCMDLEN),
])
def test_bad_fields_raise_pdu_error_with_the_right_status(frame, status):
    with pytest.raises(PduError) as info:
        decode(frame)
    assert info.value.status == status
    assert info.value.sequence == 5
    assert info.value.command_id == struct.unpack(">L", frame[4:8])[0]


def test_frame_whose_length_field_disagrees_is_refused():
    frame = header(CommandId.ENQUIRE_LINK, 1, b"") + b"x"
    with pytest.raises(PduError) as info:
        decode(frame)
    assert info.value.status == Status.ESME_RINVCMDLEN


def test_encoding_an_overlong_destination_raises_pdu_error():
    with pytest.raises(PduError) as info:
        encode(Pdu(CommandId.SUBMIT_SM, 1, 0, Sm(destination_addr="1" * 21)))
    assert info.value.status == Status.ESME_RINVDSTADR


def test_encoding_a_short_message_over_254_octets_raises():
    with pytest.raises(PduError) as info:
        encode(Pdu(CommandId.SUBMIT_SM, 1, 0, Sm(short_message=b"x" * 255)))
    assert info.value.status == Status.ESME_RINVMSGLEN


def test_encoding_the_wrong_body_type_is_a_type_error():
    with pytest.raises(TypeError):
        encode(Pdu(CommandId.SUBMIT_SM, 1, 0, SmResp("x")))
