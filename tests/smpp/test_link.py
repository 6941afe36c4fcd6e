"""SmppLink: ClientService wiring, submits as Deferreds, acks after storage, reconnects.

Driven by a MemoryReactorClock: connections are made by hand with StringTransports, and
the test plays the SMSC through FakeSmscEnd.
"""
from __future__ import annotations

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from gateway.messages import DeliveryReport, InboundSms, OutboundSms
from gateway.smpp.link import LinkDown, LinkSettings, SmppLink, SubmitRejected
from gateway.smpp.pdu import (
    MERP_MO_ID_TAG,
    CommandId,
    Empty,
    Pdu,
    Sm,
    SmResp,
    Status,
    Tag,
    Tlv,
)
from tests.smpp.helpers import FakeSmscEnd, NoDelayTransport

MSG = OutboundSms(outbox_id=1, sender="10661", recipient="8613800138000", text="OK",
                  coding="gsm7")


class Handler:
    """An InboundHandler whose Deferreds the test fires."""

    def __init__(self):
        self.inbound: list[tuple[InboundSms, Deferred]] = []
        self.receipts: list[tuple[DeliveryReport, Deferred]] = []

    def handle_inbound(self, msg):
        d = Deferred()
        self.inbound.append((msg, d))
        return d

    def handle_receipt(self, report):
        d = Deferred()
        self.receipts.append((report, d))
        return d


class Rig:
    def __init__(self, **settings):
        self.reactor = MemoryReactorClock()
        self.handler = Handler()
        endpoint = TCP4ClientEndpoint(self.reactor, "127.0.0.1", 2775)
        self.link = SmppLink("smsc1", endpoint, LinkSettings(**settings), self.handler,
                             clock=self.reactor, jitter=lambda: 0)
        self.ready = 0
        self.link.add_ready_listener(self._ready)
        self.link.startService()

    def _ready(self):
        self.ready += 1

    def attempts(self) -> int:
        return len(self.reactor.tcpClients)

    def connect(self) -> FakeSmscEnd:
        """Complete the newest connection attempt."""
        factory = self.reactor.tcpClients[-1][2]
        proto = factory.buildProtocol(None)
        transport = NoDelayTransport()
        proto.makeConnection(transport)
        return FakeSmscEnd(proto, transport)

    def bound(self) -> FakeSmscEnd:
        smsc = self.connect()
        smsc.accept_bind()
        return smsc


def lose(smsc: FakeSmscEnd) -> None:
    smsc.protocol.connectionLost(Failure(ConnectionDone()))


def results_of(d: Deferred) -> list:
    out = []
    d.addBoth(out.append)
    return out


def test_link_binds_on_connect_and_tells_the_ready_listeners():
    rig = Rig(window=5)
    assert rig.attempts() == 1 and not rig.link.bound and rig.link.capacity() == 0
    smsc = rig.connect()
    (bind,) = smsc.received()
    assert bind.command_id is CommandId.BIND_TRANSCEIVER and bind.body.system_id == "merp"
    assert smsc.transport.no_delay is True
    smsc.send(bind.response())
    assert rig.link.bound and rig.link.capacity() == 5 and rig.ready == 1


def test_submit_fires_with_the_smsc_message_id():
    rig = Rig()
    smsc = rig.bound()
    out = results_of(rig.link.submit(MSG))
    (sm,) = smsc.received()
    assert sm.command_id is CommandId.SUBMIT_SM
    assert sm.body.destination_addr == "8613800138000" and sm.body.registered_delivery == 1
    assert out == []
    smsc.send(sm.response(body=SmResp("abc123")))
    assert out == ["abc123"] and rig.ready == 2  # bound, then the slot freed


def test_submit_when_not_bound_fails_with_link_down():
    rig = Rig()
    out = results_of(rig.link.submit(MSG))
    assert out[0].check(LinkDown)


def test_throttled_submit_errbacks_transient():
    rig = Rig()
    smsc = rig.bound()
    out = results_of(rig.link.submit(MSG))
    (sm,) = smsc.received()
    smsc.send(Pdu(CommandId.SUBMIT_SM_RESP, sm.sequence, Status.ESME_RTHROTTLED, Empty()))
    err = out[0].value
    assert isinstance(err, SubmitRejected) and err.transient
    assert err.status == Status.ESME_RTHROTTLED


def test_text_that_cannot_be_encoded_is_rejected_permanently():
    rig = Rig()
    rig.bound()
    bad = OutboundSms(outbox_id=2, sender="1", recipient="2", text="订单", coding="gsm7")
    err = results_of(rig.link.submit(bad))[0].value
    assert isinstance(err, SubmitRejected) and not err.transient


def test_window_holds_the_eleventh_submit_until_a_response():
    rig = Rig(window=10)
    smsc = rig.bound()
    outs = [results_of(rig.link.submit(MSG)) for _ in range(11)]
    sent = smsc.received()
    assert len(sent) == 10 and rig.link.capacity() == 0
    smsc.send(sent[3].response(body=SmResp("m4")))
    assert outs[3] == ["m4"]
    assert len(smsc.received()) == 1


def test_deliver_sm_is_acked_only_after_the_handler_stored_it():
    rig = Rig()
    smsc = rig.bound()
    smsc.send(Pdu(CommandId.DELIVER_SM, 50, 0, Sm(
        source_addr="8613800138000", destination_addr="10661", short_message=b"ORDER X 1",
        tlvs=(Tlv(MERP_MO_ID_TAG, b"mo-7"),))))
    (msg, d), = rig.handler.inbound
    assert msg == InboundSms(link="smsc1", sender="8613800138000", recipient="10661",
                             text="ORDER X 1", smsc_id="mo-7")
    assert smsc.received() == []
    d.callback(None)
    assert smsc.received() == [Pdu(CommandId.DELIVER_SM_RESP, 50, 0, SmResp())]


def test_handler_failure_answers_rx_t_appn_so_the_smsc_redelivers():
    rig = Rig()
    smsc = rig.bound()
    smsc.send(Pdu(CommandId.DELIVER_SM, 51, 0, Sm(short_message=b"hi")))
    (_, d), = rig.handler.inbound
    d.errback(RuntimeError("database down"))
    (resp,) = smsc.received()
    assert resp.sequence == 51 and resp.status == Status.ESME_RX_T_APPN


def test_receipt_goes_to_handle_receipt_and_is_acked_after_it():
    rig = Rig()
    smsc = rig.bound()
    smsc.send(Pdu(CommandId.DELIVER_SM, 52, 0, Sm(esm_class=0x04, tlvs=(
        Tlv(Tag.RECEIPTED_MESSAGE_ID, b"abc123"), Tlv(Tag.MESSAGE_STATE, b"\x02")))))
    (report, d), = rig.handler.receipts
    assert report == DeliveryReport(link="smsc1", smsc_id="abc123", state="DELIVRD")
    assert smsc.received() == []
    d.callback(None)
    assert smsc.received()[0].status == Status.ESME_ROK


def test_handler_returning_a_plain_value_or_raising_is_handled():
    rig = Rig()
    smsc = rig.bound()
    rig.handler.handle_inbound = lambda msg: succeed(None)
    smsc.send(Pdu(CommandId.DELIVER_SM, 53, 0, Sm(short_message=b"a")))
    assert smsc.received()[0].status == Status.ESME_ROK

    def boom(msg):
        raise ValueError("bug")
    rig.handler.handle_inbound = boom
    smsc.send(Pdu(CommandId.DELIVER_SM, 54, 0, Sm(short_message=b"b")))
    assert smsc.received()[0].status == Status.ESME_RX_T_APPN


def test_connection_lost_fails_in_flight_submits_and_reconnects():
    rig = Rig(reconnect_initial=1.0)
    smsc = rig.bound()
    out = results_of(rig.link.submit(MSG))
    lose(smsc)
    assert out[0].check(LinkDown) and not rig.link.bound
    assert rig.attempts() == 1
    rig.reactor.advance(1.49)  # backoffPolicy: initial 1.0 x factor 1.5 for attempt 1
    assert rig.attempts() == 1
    rig.reactor.advance(0.01)
    assert rig.attempts() == 2
    rig.bound()
    assert rig.link.bound


def test_refused_bind_retries_with_growing_backoff():
    rig = Rig(reconnect_initial=1.0, reconnect_max=60.0)
    for attempt, delay in enumerate([1.5, 2.25, 3.375], start=1):
        smsc = rig.connect()
        (bind,) = smsc.received()
        smsc.send(Pdu(CommandId.BIND_TRANSCEIVER_RESP, bind.sequence,
                      Status.ESME_RINVPASWD))
        assert smsc.transport.disconnecting and not rig.link.bound
        lose(smsc)  # must not upset ClientService's state machine
        rig.reactor.advance(delay - 0.01)
        assert rig.attempts() == attempt
        rig.reactor.advance(0.01)
        assert rig.attempts() == attempt + 1


def test_connection_lost_while_binding_retries():
    rig = Rig(reconnect_initial=1.0)
    smsc = rig.connect()
    lose(smsc)
    rig.reactor.advance(1.5)
    assert rig.attempts() == 2


def test_stop_unbinds_waits_for_unbind_resp_and_disconnects():
    rig = Rig()
    smsc = rig.bound()
    stopped = results_of(rig.link.stopService())
    (unbind,) = smsc.received()
    assert unbind.command_id is CommandId.UNBIND
    assert not smsc.transport.disconnecting
    smsc.send(unbind.response())
    assert smsc.transport.disconnecting
    lose(smsc)
    assert stopped == [None]
    rig.reactor.advance(120)
    assert rig.attempts() == 1  # no reconnect after stop


def test_stop_while_not_connected_cancels_the_retry():
    rig = Rig()
    smsc = rig.connect()
    lose(smsc)
    stopped = results_of(rig.link.stopService())
    assert stopped == [None]
    rig.reactor.advance(120)
    assert rig.attempts() == 1


def test_enquire_link_silence_drops_the_link_and_it_reconnects():
    rig = Rig(enquire_link_interval=30, response_timeout=10)
    smsc = rig.bound()
    rig.reactor.advance(30)
    assert smsc.received()[0].command_id is CommandId.ENQUIRE_LINK
    rig.reactor.advance(10)
    assert smsc.transport.disconnecting
    lose(smsc)
    assert not rig.link.bound
    rig.reactor.advance(60)
    assert rig.attempts() == 2


def test_unsupported_bind_mode_is_refused_at_construction():
    with pytest.raises(ValueError):
        SmppLink("x", None, LinkSettings(bind_mode="transmitter+receiver"), Handler())


def test_failed_handler_deferred_is_consumed():
    """fail() handler results must not leak as unhandled errors."""
    rig = Rig()
    smsc = rig.bound()
    rig.handler.handle_receipt = lambda report: fail(RuntimeError("x"))
    smsc.send(Pdu(CommandId.DELIVER_SM, 60, 0, Sm(esm_class=0x04, tlvs=(
        Tlv(Tag.RECEIPTED_MESSAGE_ID, b"z"), Tlv(Tag.MESSAGE_STATE, b"\x05")))))
    assert smsc.received()[0].status == Status.ESME_RX_T_APPN


def test_stop_while_binding_hangs_up_instead_of_binding_later():
    rig = Rig()
    smsc = rig.connect()
    (bind,) = smsc.received()
    rig.link.stopService()
    assert smsc.transport.disconnecting
    smsc.send(bind.response())  # a late bind_resp does not bring the link up
    assert not rig.link.bound
    lose(smsc)
    rig.reactor.advance(120)
    assert rig.attempts() == 1
