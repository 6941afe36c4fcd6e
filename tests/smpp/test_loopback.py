"""SmppLink over a real loopback socket against a tiny SMSC written here."""
from __future__ import annotations

import pytest_twisted
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol

from gateway.messages import OutboundSms
from gateway.smpp.framing import split_frames
from gateway.smpp.link import LinkSettings, SmppLink
from gateway.smpp.pdu import MERP_MO_ID_TAG, BindResp, CommandId, Pdu, Sm, SmResp, Tlv
from gateway.smpp.pdu import decode, encode

TIMEOUT = 5.0  # a safety net only: each step normally completes in milliseconds


class MiniSmsc(Protocol):
    """Answers bind, submit_sm and unbind; pushes one MO after the bind."""

    def connectionMade(self):
        self.buffer = b""
        self.submits = 0

    def dataReceived(self, data):
        frames, self.buffer = split_frames(self.buffer + data)
        for frame in frames:
            pdu = decode(frame)
            if pdu.command_id is CommandId.BIND_TRANSCEIVER:
                self.write(pdu.response(body=BindResp("mini")))
                self.write(Pdu(CommandId.DELIVER_SM, 1, 0, Sm(
                    source_addr="8613800138000", destination_addr="10661",
                    short_message=b"ORDER X100 5", tlvs=(Tlv(MERP_MO_ID_TAG, b"mo-1"),))))
            elif pdu.command_id is CommandId.SUBMIT_SM:
                self.submits += 1
                self.write(pdu.response(body=SmResp(f"id-{self.submits}")))
            elif pdu.command_id is CommandId.DELIVER_SM_RESP:
                self.factory.acked.callback(pdu)
            elif pdu.command_id is CommandId.UNBIND:
                self.write(pdu.response())
                self.transport.loseConnection()

    def write(self, pdu):
        self.transport.write(encode(pdu))


class StoringHandler:
    def __init__(self):
        self.inbound = []

    def handle_inbound(self, msg):
        self.inbound.append(msg)
        return succeed(None)

    def handle_receipt(self, report):
        return succeed(None)


@pytest_twisted.inlineCallbacks
def test_link_binds_receives_an_mo_and_submits_over_loopback():
    from twisted.internet import reactor

    factory = Factory.forProtocol(MiniSmsc)
    factory.acked = Deferred()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    handler = StoringHandler()
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    link = SmppLink("lo", endpoint, LinkSettings(), handler)
    ready = Deferred()
    link.add_ready_listener(lambda: None if ready.called else ready.callback(None))
    link.startService()
    try:
        yield ready.addTimeout(TIMEOUT, reactor)
        ack = yield factory.acked.addTimeout(TIMEOUT, reactor)
        assert ack.status == 0 and handler.inbound[0].smsc_id == "mo-1"
        message_id = yield link.submit(OutboundSms(
            outbox_id=1, sender="10661", recipient="8613800138000", text="OK",
            coding="gsm7")).addTimeout(TIMEOUT, reactor)
        assert message_id == "id-1"
    finally:
        yield link.stopService().addTimeout(TIMEOUT, reactor)
        yield port.stopListening()
    assert not link.bound
