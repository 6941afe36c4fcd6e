"""The simulated SMSC over a StringTransport with a task.Clock: binds, submits, receipts,
throttling, failures, MOs, the window toward the ESME, redelivery and garbage."""
from __future__ import annotations

import struct

from twisted.internet import task

from gateway.smpp.pdu import MERP_MO_ID_TAG, Bind, CommandId, Empty, Pdu, Status, Tag, Tlv, encode
from gateway.text.receipts import parse_receipt
from gateway.text.udh import parse_udh
from sim.testing import FakeEsme, make_smsc


def test_bind_with_the_configured_credentials_succeeds_for_every_mode():
    for command in (CommandId.BIND_TRANSCEIVER, CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER):
        smsc = make_smsc()
        resp = FakeEsme(smsc).bind(command)
        assert resp.command_id == command | 0x80000000
        assert resp.status == Status.ESME_ROK
        assert resp.body.system_id == "merp"
        assert len(smsc.sessions) == 1


def test_bind_with_a_wrong_system_id_is_refused_with_rinvsysid():
    smsc = make_smsc()
    resp = FakeEsme(smsc).bind(system_id="other")
    assert resp.status == Status.ESME_RINVSYSID
    assert smsc.sessions == []


def test_bind_with_a_wrong_password_is_refused_with_rinvpaswd():
    resp = FakeEsme(make_smsc()).bind(password="wrong")
    assert resp.status == Status.ESME_RINVPASWD


def test_a_second_bind_on_a_bound_session_gets_ralybnd():
    esme = FakeEsme(make_smsc())
    esme.bind()
    assert esme.bind().status == Status.ESME_RALYBND


def test_submit_before_bind_gets_rinvbndsts():
    esme = FakeEsme(make_smsc())
    resp = esme.submit()
    assert resp.command_id == CommandId.SUBMIT_SM_RESP
    assert resp.status == Status.ESME_RINVBNDSTS


def test_submit_on_a_receiver_bind_gets_rinvbndsts():
    esme = FakeEsme(make_smsc())
    esme.bind(CommandId.BIND_RECEIVER)
    assert esme.submit().status == Status.ESME_RINVBNDSTS


def test_submits_get_unique_hex_message_ids_and_reach_the_handset():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    ids = [esme.submit(b"reply %d" % n).body.message_id for n in range(50)]
    assert len(set(ids)) == 50
    assert all(int(i, 16) > 0 for i in ids)
    inbox = smsc.phonebook.get("13800000001").inbox
    assert [m.text for m in inbox][:2] == ["reply 0", "reply 1"]
    assert inbox[0].sender == "106571234501"


def test_message_ids_can_be_decimal():
    esme = FakeEsme(make_smsc(id_style="dec"))
    esme.bind()
    assert esme.submit().body.message_id.isdigit()


def test_receipt_arrives_after_the_configured_delay_with_the_drawn_outcome():
    clock = task.Clock()
    smsc = make_smsc(clock, receipt_delay=5.0, outcomes={"UNDELIV": 1.0})
    esme = FakeEsme(smsc)
    esme.bind()
    message_id = esme.submit().body.message_id
    clock.advance(4.9)
    assert esme.received() == []
    clock.advance(0.1)
    (receipt,) = esme.received()
    assert receipt.command_id == CommandId.DELIVER_SM
    assert receipt.body.esm_class == 0x04
    assert receipt.body.tlv(Tag.RECEIPTED_MESSAGE_ID) == message_id.encode() + b"\0"
    assert receipt.body.tlv(Tag.MESSAGE_STATE) == bytes([5])
    parsed = parse_receipt(receipt.body.short_message)
    assert parsed["id"] == message_id and parsed["stat"] == "UNDELIV"
    assert parsed["text"] == "hello"
    assert receipt.body.source_addr == "13800000001"


def test_outcome_mix_is_deterministic_for_a_seed_and_follows_the_weights():
    def outcomes(seed):
        clock = task.Clock()
        smsc = make_smsc(clock, receipt_delay=0, seed=seed, outcomes={"DELIVRD": 0.8, "UNDELIV": 0.2})
        esme = FakeEsme(smsc)
        esme.bind()
        states = []
        for _ in range(200):
            esme.submit()
            clock.advance(0)
            for pdu in esme.received():
                states.append(pdu.body.tlv(Tag.MESSAGE_STATE)[0])
                esme.ack(pdu)
        return states

    first = outcomes(3)
    assert first == outcomes(3)
    assert 120 < first.count(2) < 190 and first.count(5) == 200 - first.count(2)


def test_no_receipt_when_registered_delivery_is_zero_or_failure_only_and_delivered():
    clock = task.Clock()
    esme = FakeEsme(make_smsc(clock, receipt_delay=1))
    esme.bind()
    esme.submit(registered_delivery=0)
    esme.submit(registered_delivery=2)
    clock.advance(10)
    assert esme.received() == []


def test_submits_above_the_throttle_rate_get_rthrottled_until_time_passes():
    clock = task.Clock()
    esme = FakeEsme(make_smsc(clock, throttle_rate=5))
    esme.bind()
    statuses = [esme.submit(registered_delivery=0).status for _ in range(8)]
    assert statuses == [0] * 5 + [Status.ESME_RTHROTTLED] * 3
    clock.advance(1)
    assert esme.submit(registered_delivery=0).status == Status.ESME_ROK


def test_throttle_flag_refuses_every_submit_while_set():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    smsc.update(throttle=True)
    assert esme.submit().status == Status.ESME_RTHROTTLED
    smsc.update(throttle=False)
    assert esme.submit().status == Status.ESME_ROK


def test_fail_rate_refuses_that_fraction_with_a_permanent_error_and_no_handset_message():
    smsc = make_smsc(fail_rate=0.3)
    esme = FakeEsme(smsc)
    esme.bind()
    statuses = [esme.submit(registered_delivery=0).status for _ in range(300)]
    failed = statuses.count(Status.ESME_RSUBMITFAIL)
    assert 60 < failed < 120 and statuses.count(0) == 300 - failed
    assert len(smsc.phonebook.get("13800000001").inbox) == 300 - failed


def test_enquire_link_and_unbind_are_answered_and_unbind_closes():
    esme = FakeEsme(make_smsc())
    esme.bind()
    esme.request(CommandId.ENQUIRE_LINK, Empty())
    assert esme.received()[0].command_id == CommandId.ENQUIRE_LINK_RESP
    esme.request(CommandId.UNBIND, Empty())
    assert esme.received()[0].command_id == CommandId.UNBIND_RESP
    assert esme.transport.disconnecting


def test_an_mo_is_delivered_with_its_id_in_the_merp_tlv_and_acked_once():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    mo = smsc.queue_mo("13800000001", "106571234501", "STOCK X100")
    (pdu,) = esme.received()
    assert pdu.command_id == CommandId.DELIVER_SM
    assert pdu.body.short_message == b"STOCK X100"
    assert pdu.body.source_addr == "13800000001" and pdu.body.destination_addr == "106571234501"
    assert pdu.body.tlv(MERP_MO_ID_TAG) == mo.mo_id.encode()
    esme.ack(pdu)
    assert mo.acked_at is not None
    assert smsc.counters["mos_acked"] == 1 and smsc.status()["mos_unacked"] == 0


def test_an_mo_queued_before_any_bind_waits_for_a_receiver():
    smsc = make_smsc()
    smsc.queue_mo("13800000001", None, "HELP")
    transmitter = FakeEsme(smsc)
    transmitter.bind(CommandId.BIND_TRANSMITTER)
    assert transmitter.received() == []
    receiver = FakeEsme(smsc)
    receiver.bind(CommandId.BIND_RECEIVER)
    (pdu,) = receiver.received()
    assert pdu.body.destination_addr == "106571234501"


def test_a_chinese_long_mo_is_split_with_a_udh_in_ucs2():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    text = "库存" * 50  # 100 UCS-2 units: two parts
    smsc.queue_mo("13800000001", None, text)
    parts = esme.received()
    assert len(parts) == 2
    bodies = []
    for number, pdu in enumerate(parts, start=1):
        assert pdu.body.data_coding == 8 and pdu.body.esm_class & 0x40
        concat, body = parse_udh(pdu.body.short_message)
        assert (concat.total, concat.number) == (2, number)
        bodies.append(body)
    assert b"".join(bodies).decode("utf-16-be") == text
    ids = {pdu.body.tlv(MERP_MO_ID_TAG) for pdu in parts}
    assert len(ids) == 2  # each part has its own id: the gateway deduplicates per part


def test_an_mo_refused_by_the_esme_is_redelivered_after_the_retry_delay():
    clock = task.Clock()
    smsc = make_smsc(clock, retry_delay=2.0)
    esme = FakeEsme(smsc)
    esme.bind()
    mo = smsc.queue_mo("13800000001", None, "ORDER X100 5")
    (first,) = esme.received()
    esme.ack(first, Status.ESME_RX_T_APPN)
    clock.advance(1.9)
    assert esme.received() == []
    clock.advance(0.1)
    (second,) = esme.received()
    assert second.body == first.body and second.sequence != first.sequence
    esme.ack(second)
    assert mo.acked_at == 2.0


def test_an_mo_not_answered_in_time_is_redelivered():
    clock = task.Clock()
    smsc = make_smsc(clock, response_timeout=10.0, retry_delay=0)
    esme = FakeEsme(smsc)
    esme.bind()
    smsc.queue_mo("13800000001", None, "PENDING")
    (first,) = esme.received()
    clock.advance(10)
    (second,) = esme.received()
    assert second.body == first.body
    esme.ack(first)  # the late resp to the first copy changes nothing
    assert smsc.counters["mos_acked"] == 0
    esme.ack(second)
    assert smsc.counters["mos_acked"] == 1


def test_mos_in_flight_when_the_connection_drops_go_to_the_next_bind_in_order():
    smsc = make_smsc()
    first = FakeEsme(smsc)
    first.bind()
    for n in range(3):
        smsc.queue_mo("13800000001", None, f"MO {n}")
    sent = first.received()
    first.ack(sent[0])
    first.drop()
    assert smsc.sessions == []
    second = FakeEsme(smsc)
    second.bind()
    again = second.received()
    assert [p.body.short_message for p in again] == [b"MO 1", b"MO 2"]
    for pdu in again:
        second.ack(pdu)
    assert smsc.counters["mos_acked"] == 3


def test_the_window_toward_the_esme_limits_deliver_sm_in_flight():
    smsc = make_smsc(window=3)
    esme = FakeEsme(smsc)
    esme.bind()
    for n in range(5):
        smsc.queue_mo("13800000001", None, f"MO {n}")
    sent = esme.received()
    assert len(sent) == 3
    esme.ack(sent[0])
    (fourth,) = esme.received()
    assert fourth.body.short_message == b"MO 3"
    assert smsc.status()["queued"] == 1 and smsc.status()["mos_in_flight"] == 3


def test_an_unknown_command_id_gets_generic_nack_and_the_session_carries_on():
    esme = FakeEsme(make_smsc())
    esme.bind()
    esme.send_raw(struct.pack(">LLLL", 16, 0x00000099, 0, 42))
    (nack,) = esme.received()
    assert nack.command_id == CommandId.GENERIC_NACK
    assert (nack.status, nack.sequence) == (Status.ESME_RINVCMDID, 42)
    assert esme.submit().status == Status.ESME_ROK


def test_a_submit_with_a_bad_field_gets_its_resp_with_the_error_status():
    esme = FakeEsme(make_smsc())
    esme.bind()
    # submit_sm whose body stops inside service_type
    esme.send_raw(struct.pack(">LLLL", 18, CommandId.SUBMIT_SM, 0, 9) + b"ab")
    (resp,) = esme.received()
    assert resp.command_id == CommandId.SUBMIT_SM_RESP and resp.sequence == 9
    assert resp.status == Status.ESME_RINVCMDLEN


def test_a_corrupt_length_gets_generic_nack_and_the_connection_is_dropped():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    smsc.queue_mo("13800000001", None, "in flight")
    esme.received()
    esme.send_raw(struct.pack(">LLLL", 8, 4, 0, 5))
    (nack,) = esme.received()
    assert nack.command_id == CommandId.GENERIC_NACK and nack.status == Status.ESME_RINVCMDLEN
    assert esme.transport.disconnecting
    assert smsc.status()["queued"] == 1  # the MO in flight was taken back


def test_bytes_fed_one_at_a_time_make_the_same_conversation():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    for byte in encode(Pdu(CommandId.BIND_TRANSCEIVER, 1, 0, Bind("merp", "secret"))):
        esme.send_raw(bytes([byte]))
    (resp,) = esme.received()
    assert resp.status == Status.ESME_ROK


def test_submitted_parts_joined_by_a_udh_reach_the_handset_as_one_message():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    udh = bytes.fromhex("0500037F0201")
    esme.submit(udh + "第一部分".encode("utf-16-be"), esm_class=0x40, data_coding=8, registered_delivery=0)
    assert list(smsc.phonebook.get("13800000001").inbox) == []
    udh2 = bytes.fromhex("0500037F0202")
    esme.submit(udh2 + "第二".encode("utf-16-be"), esm_class=0x40, data_coding=8, registered_delivery=0)
    (message,) = smsc.phonebook.get("13800000001").inbox
    assert message.text == "第一部分第二"


def test_submitted_parts_joined_by_sar_tlvs_reach_the_handset_as_one_message():
    smsc = make_smsc()
    esme = FakeEsme(smsc)
    esme.bind()
    for number, text in ((2, b" world"), (1, b"hello")):
        tlvs = (Tlv(Tag.SAR_MSG_REF_NUM, b"\x01\x02"), Tlv(Tag.SAR_TOTAL_SEGMENTS, b"\x02"),
                Tlv(Tag.SAR_SEGMENT_SEQNUM, bytes([number])))
        esme.submit(text, registered_delivery=0, tlvs=tlvs)
    assert [m.text for m in smsc.phonebook.get("13800000001").inbox] == ["hello world"]


def test_a_receipt_refused_by_the_esme_is_redelivered():
    clock = task.Clock()
    smsc = make_smsc(clock, receipt_delay=0, retry_delay=1)
    esme = FakeEsme(smsc)
    esme.bind()
    esme.submit()
    clock.advance(0)
    (first,) = esme.received()
    esme.ack(first, Status.ESME_RTHROTTLED)
    clock.advance(1)
    (second,) = esme.received()
    assert second.body.tlv(Tag.RECEIPTED_MESSAGE_ID) == first.body.tlv(Tag.RECEIPTED_MESSAGE_ID)
    esme.ack(second)
    assert smsc.counters["receipts_acked"] == 1


def test_the_time_an_esme_takes_to_acknowledge_each_delivery_is_recorded_by_kind():
    clock = task.Clock()
    smsc = make_smsc(clock, receipt_delay=1.0)
    esme = FakeEsme(smsc)
    esme.bind()
    smsc.queue_mo("13800000001", "106571234501", "STOCK X100")
    (mo_pdu,) = esme.received()
    clock.advance(0.25)
    esme.ack(mo_pdu)
    esme.submit(b"reply")
    clock.advance(1.0)  # the receipt is delivered
    (receipt_pdu,) = esme.received()
    clock.advance(0.5)
    esme.ack(receipt_pdu, status=Status.ESME_RSYSERR)  # refused: not an acknowledgement
    assert smsc.ack_times == {"mo": [0.25], "receipt": []}
