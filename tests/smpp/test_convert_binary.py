"""Binary outbound parts (WAP Push SIs): the outbox row's text is the hex of the user data,
UDH first; the submit_sm carries those bytes with data_coding 4 and the UDHI bit."""
from __future__ import annotations

import struct

import pytest
import smpplib.command

from gateway.messages import ConcatInfo, OutboundSms
from gateway.smpp.convert import to_submit
from gateway.smpp.pdu import CommandId, Pdu, encode
from gateway.web.wap.push import wap_push_si

URL = "http://gw.example.com/wap/d/1001?t=abc"


def binary(text: str, **kwargs) -> OutboundSms:
    return OutboundSms(outbox_id=1, sender="106571234501", recipient="13800000002", text=text,
                       coding="binary", **kwargs)


def test_a_push_si_submit_sm_is_byte_for_byte_what_smpplib_builds():
    payload = wap_push_si(URL, "Order 1001 awaits approval")
    ours = encode(Pdu(CommandId.SUBMIT_SM, 5, 0, to_submit(binary(payload.hex()))))
    command = smpplib.command.factory(
        "submit_sm", sequence=5, source_addr_ton=0, source_addr_npi=0, source_addr="106571234501",
        dest_addr_ton=1, dest_addr_npi=1, destination_addr="13800000002", esm_class=0x40,
        registered_delivery=1, data_coding=4, short_message=payload)
    command.sequence = 5
    assert ours == command.generate()


def test_the_body_layout_is_the_smpp_3_4_submit_sm_with_the_udh_first():
    payload = wap_push_si(URL, "Approve")
    data = encode(Pdu(CommandId.SUBMIT_SM, 9, 0, to_submit(binary(payload.hex()), 0, 0, 1, 1)))
    fixed = b"\x00" + b"\x00\x00106571234501\x00" + b"\x01\x0113800000002\x00"
    fixed += bytes([0x40, 0, 0]) + b"\x00\x00" + bytes([1, 0, 4, 0, len(payload)])
    assert data == struct.pack(">LLLL", 16 + len(fixed) + len(payload), 4, 0, 9) + fixed + payload
    assert payload[:7] == bytes.fromhex("0605040b8423f0")  # UDH: 16-bit ports 2948 <- 9200


def test_binary_text_that_is_not_hex_is_refused_clearly():
    with pytest.raises(ValueError, match="hex"):
        to_submit(binary("not hex"))


def test_binary_without_a_user_data_header_is_refused():
    with pytest.raises(ValueError, match="header"):
        to_submit(binary("0001"))
    with pytest.raises(ValueError, match="header"):
        to_submit(binary("09aabb"))


def test_binary_longer_than_one_sms_is_refused():
    with pytest.raises(ValueError, match="140"):
        to_submit(binary("06050400000000" + "00" * 134))


def test_a_binary_part_of_a_concatenated_message_is_refused():
    with pytest.raises(ValueError, match="one SMS"):
        to_submit(binary(wap_push_si(URL, "x").hex(), concat=ConcatInfo(1, 2, 1)))
