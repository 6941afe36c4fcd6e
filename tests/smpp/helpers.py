"""A fake SMSC end for protocol and link tests: reads what the ESME wrote, answers."""
from __future__ import annotations

from twisted.internet.testing import StringTransport

from gateway.smpp.framing import split_frames
from gateway.smpp.pdu import BindResp, Pdu, decode, encode


class NoDelayTransport(StringTransport):
    """StringTransport that records setTcpNoDelay like a TCP transport would."""

    def __init__(self):
        super().__init__()
        self.no_delay = None

    def setTcpNoDelay(self, enabled):  # noqa: N802 - Twisted's name
        self.no_delay = enabled


class FakeSmscEnd:
    """The SMSC side of one StringTransport connection to an ESME protocol."""

    def __init__(self, protocol, transport: StringTransport):
        self.protocol = protocol
        self.transport = transport

    def received(self) -> list[Pdu]:
        frames, rest = split_frames(self.transport.value())
        assert rest == b""
        self.transport.clear()
        return [decode(f) for f in frames]

    def send(self, *pdus: Pdu) -> None:
        self.protocol.dataReceived(b"".join(encode(p) for p in pdus))

    def accept_bind(self) -> Pdu:
        (bind,) = self.received()
        self.send(bind.response(body=BindResp("SMSC")))
        return bind
