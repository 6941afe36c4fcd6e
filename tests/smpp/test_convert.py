"""deliver_sm -> InboundSms / DeliveryReport and OutboundSms -> submit_sm."""
from __future__ import annotations

import pytest
import smpplib.command

from gateway.messages import ConcatInfo, DeliveryReport, InboundSms, OutboundSms
from gateway.smpp.convert import ConvertError, from_deliver, state_name, to_submit
from gateway.smpp.pdu import MERP_MO_ID_TAG, Sm, Status, Tlv, decode


def smpplib_deliver(**kwargs) -> Sm:
    command = smpplib.command.factory("deliver_sm", sequence=1, **kwargs)
    command.sequence = 1
    return decode(command.generate()).body


def test_plain_gsm7_mo_becomes_inbound_sms_with_the_simulator_id():
    sm = Sm(source_addr="8613800138000", destination_addr="10661", data_coding=0,
            short_message=b"ORDER X100 5", tlvs=(Tlv(MERP_MO_ID_TAG, b"mo-42"),))
    assert from_deliver("smsc1", sm) == InboundSms(
        link="smsc1", sender="8613800138000", recipient="10661", text="ORDER X100 5",
        smsc_id="mo-42", concat=None)


def test_mo_without_the_id_tlv_has_no_smsc_id():
    assert from_deliver("l", Sm(short_message=b"hi")).smsc_id is None


def test_ucs2_mo_is_decoded_by_data_coding():
    sm = Sm(data_coding=8, short_message="订单".encode("utf-16-be"))
    assert from_deliver("l", sm).text == "订单"


def test_udh_part_gives_concat_info_and_text_without_the_header():
    sm = Sm(esm_class=0x40, short_message=b"\x05\x00\x03\x2a\x03\x02" + b"part two")
    msg = from_deliver("l", sm)
    assert msg.concat == ConcatInfo(reference=0x2A, total=3, number=2)
    assert msg.text == "part two"


def test_sar_tlvs_give_concat_info_when_there_is_no_udh():
    sm = smpplib_deliver(source_addr="861", destination_addr="1", short_message=b"abc",
                         sar_msg_ref_num=0x1234, sar_total_segments=2, sar_segment_seqnum=2)
    assert from_deliver("l", sm).concat == ConcatInfo(reference=0x1234, total=2, number=2)


def test_message_payload_is_used_when_short_message_is_empty():
    sm = smpplib_deliver(source_addr="861", destination_addr="1", message_payload=b"x" * 300)
    assert from_deliver("l", sm).text == "x" * 300


def test_broken_udh_is_refused_with_a_permanent_application_error():
    with pytest.raises(ConvertError) as info:
        from_deliver("l", Sm(esm_class=0x40, short_message=b"\x09\x00\x03"))
    assert info.value.status == Status.ESME_RX_P_APPN


def test_receipt_prefers_receipted_message_id_and_message_state_tlvs():
    sm = smpplib_deliver(
        source_addr="861", destination_addr="1", esm_class=0x04,
        short_message=b"id:999 sub:001 dlvrd:000 submit date:2401011200 "
                      b"done date:2401011201 stat:UNDELIV err:012 text:hi",
        receipted_message_id="0a1b2c", message_state=2)
    assert from_deliver("l", sm) == DeliveryReport(link="l", smsc_id="0a1b2c",
                                                   state="DELIVRD", error="012")


def test_receipt_text_alone_is_parsed():
    sm = Sm(esm_class=0x04, short_message=b"id:77 sub:001 dlvrd:000 submit date:2401011200 "
                                          b"done date:2401011201 stat:EXPIRED err:000 text:")
    assert from_deliver("l", sm) == DeliveryReport(link="l", smsc_id="77", state="EXPIRED",
                                                   error="000")


def test_receipt_without_id_or_state_is_refused():
    with pytest.raises(ConvertError):
        from_deliver("l", Sm(esm_class=0x04, short_message=b"nonsense"))


@pytest.mark.parametrize("number, name", [
    (1, "ENROUTE"), (2, "DELIVRD"), (3, "EXPIRED"), (4, "DELETED"), (5, "UNDELIV"),
    (6, "ACCEPTD"), (7, "UNKNOWN"), (8, "REJECTD"), (99, "UNKNOWN"),
])
def test_message_state_numbers_map_to_receipt_names(number, name):
    assert state_name(number) == name


def test_gsm7_outbound_becomes_submit_sm_with_receipt_requested():
    msg = OutboundSms(outbox_id=1, sender="10661", recipient="8613800138000",
                      text="OK @", coding="gsm7")
    sm = to_submit(msg, dest_ton=1, dest_npi=1)
    assert (sm.source_addr, sm.destination_addr) == ("10661", "8613800138000")
    assert (sm.data_coding, sm.esm_class, sm.registered_delivery) == (0, 0, 1)
    assert (sm.dest_addr_ton, sm.dest_addr_npi) == (1, 1)
    assert sm.short_message == b"OK \x00"  # '@' is septet 0, unpacked


def test_ucs2_part_of_a_long_reply_gets_udh_and_udhi():
    msg = OutboundSms(outbox_id=2, sender="1", recipient="2", text="批准", coding="ucs2",
                      concat=ConcatInfo(reference=7, total=2, number=1), want_receipt=False)
    sm = to_submit(msg)
    assert sm.data_coding == 8 and sm.esm_class == 0x40 and sm.registered_delivery == 0
    assert sm.short_message == b"\x05\x00\x03\x07\x02\x01" + "批准".encode("utf-16-be")


def test_unknown_coding_is_a_value_error():
    with pytest.raises(ValueError):
        to_submit(OutboundSms(outbox_id=3, sender="1", recipient="2", text="x", coding="x"))
