"""CMPP bodies to and from the shared message types: codings, UDH parts, reports."""
from __future__ import annotations

import pytest

from gateway.cmpp.convert import ConvertError, SubmitOptions, from_deliver, to_submit
from gateway.cmpp.pdu import Deliver, StatusReport
from gateway.messages import ConcatInfo, DeliveryReport, InboundSms, OutboundSms
from gateway.text import concat_udh


def mo(content, fmt, udhi=0):
    return Deliver(msg_id=42, dest_id="106571234501", src_terminal_id="13800000002",
                   msg_content=content, msg_fmt=fmt, tp_udhi=udhi)


@pytest.mark.parametrize("content,fmt", [
    (b"STOCK X100", 0), ("库存 X100".encode("utf-16-be"), 8), ("库存 X100".encode("gbk"), 15),
])
def test_mo_text_is_decoded_by_msg_fmt_ascii_ucs2_and_gbk(content, fmt):
    msg = from_deliver("l", mo(content, fmt))
    assert msg == InboundSms(link="l", sender="13800000002", recipient="106571234501",
                             text=content.decode({0: "ascii", 8: "utf-16-be", 15: "gbk"}[fmt]),
                             smsc_id="42")


def test_an_mo_part_carries_its_concat_info():
    msg = from_deliver("l", mo(concat_udh(7, 3, 2) + "库".encode("utf-16-be"), 8, udhi=1))
    assert (msg.concat, msg.text) == (ConcatInfo(7, 3, 2), "库")


def test_a_broken_udh_is_refused_with_a_result():
    with pytest.raises(ConvertError):
        from_deliver("l", mo(b"\x09\x00", 0, udhi=1))


def test_a_report_becomes_a_delivery_report_keyed_by_the_decimal_msg_id():
    report = StatusReport(msg_id=2**63 + 5, stat="DELIVRD")
    deliver = Deliver(msg_id=1, dest_id="1065", src_terminal_id="138", registered_delivery=1,
                      report=report)
    assert from_deliver("l", deliver) == DeliveryReport("l", str(2**63 + 5), "DELIVRD")


def test_an_operator_failure_code_is_an_undelivered_report_with_the_code_as_error():
    deliver = Deliver(msg_id=1, dest_id="1065", src_terminal_id="138", registered_delivery=1,
                      report=StatusReport(msg_id=9, stat="MK:0001"))
    assert from_deliver("l", deliver) == DeliveryReport("l", "9", "UNDELIV", "MK:0001")


def test_a_gsm7_part_goes_as_ascii_with_pk_fields_and_udh():
    msg = OutboundSms(1, "106571234501", "13800000001", "OK", "gsm7", ConcatInfo(9, 2, 1))
    s = to_submit(msg, SubmitOptions(sp_id="901234", service_id="MERP"))
    assert (s.msg_fmt, s.tp_udhi, s.pk_total, s.pk_number) == (0, 1, 2, 1)
    assert s.msg_content == concat_udh(9, 2, 1) + b"OK"
    assert (s.msg_src, s.service_id, s.dest_terminal_ids, s.registered_delivery) == \
        ("901234", "MERP", ("13800000001",), 1)


def test_a_ucs2_reply_goes_as_msg_fmt_8_and_non_ascii_gsm_text_as_ucs2_when_it_fits():
    ucs2 = to_submit(OutboundSms(1, "1065", "138", "库存", "ucs2"), SubmitOptions())
    assert (ucs2.msg_fmt, ucs2.msg_content) == (8, "库存".encode("utf-16-be"))
    euro = to_submit(OutboundSms(1, "1065", "138", "5€", "gsm7"), SubmitOptions())
    assert (euro.msg_fmt, euro.msg_content) == (8, "5€".encode("utf-16-be"))


def test_the_src_id_prefix_is_added_only_when_missing():
    options = SubmitOptions(src_id_prefix="1065712345")
    assert to_submit(OutboundSms(1, "01", "138", "x", "gsm7"), options).src_id == "106571234501"
    assert to_submit(OutboundSms(1, "106571234501", "138", "x", "gsm7"), options).src_id == "106571234501"


def test_a_binary_part_goes_as_msg_fmt_4_with_tp_udhi_and_its_payload_untouched():
    """A WAP Push over CMPP: the port-addressing UDH is already in the payload."""
    payload = bytes.fromhex("0605040b8423f0") + b"\x01\x06\x01\xae"
    s = to_submit(OutboundSms(1, "1065", "138", payload.hex(), "binary"), SubmitOptions())
    assert (s.msg_fmt, s.tp_udhi, s.msg_content) == (4, 1, payload)
    assert (s.pk_total, s.pk_number) == (1, 1)


@pytest.mark.parametrize("text", ["zz", "", "00ff", "05" + "00" * 200])
def test_a_binary_part_that_cannot_be_sent_is_refused_clearly(text):
    with pytest.raises(ValueError):
        to_submit(OutboundSms(1, "1065", "138", text, "binary"), SubmitOptions())
