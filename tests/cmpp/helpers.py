"""Test rigs for CMPP: an SP protocol wired to the simulated ISMG over StringTransports on
one task.Clock (no sockets), and a recording InboundHandler."""
from __future__ import annotations

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import StringTransport

from gateway.cmpp.protocol import SpProtocol
from gateway.cmpp.session import SessionSettings
from sim.ismg import Ismg, IsmgSettings
from sim.ismg_session import IsmgFactory


class Events:
    """LinkEvents that record what the protocol tells its link; DELIVERs acked at once
    unless `hold` is set."""

    def __init__(self):
        self.delivers = []
        self.replies = []
        self.slots = 0
        self.lost = 0
        self.hold = False

    def slot_freed(self):
        self.slots += 1

    def deliver_received(self, deliver, reply):
        self.delivers.append(deliver)
        self.replies.append(reply)
        if not self.hold:
            reply(0)

    def protocol_lost(self, protocol):
        self.lost += 1


class Wire:
    """SP protocol <-> ISMG protocol through two StringTransports; `flush()` moves bytes."""

    def __init__(self, version=0x30, clock=None, ismg=None, **sp):
        self.clock = clock or task.Clock()
        self.ismg = ismg or Ismg(self.clock, IsmgSettings(seed=3, sp_id="901234",
                                                          shared_secret="s3cret"))
        sp.setdefault("sp_id", "901234")
        sp.setdefault("shared_secret", "s3cret")
        self.events = Events()
        self.sp = SpProtocol(self.events, self.clock, SessionSettings(version=version, **sp))
        self.ismg_side = IsmgFactory(self.ismg).buildProtocol(None)
        self.sp_transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 7890))
        self.ismg_transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40001))
        self.ismg_side.makeConnection(self.ismg_transport)
        self.sp.makeConnection(self.sp_transport)

    def flush(self, limit: int = 100) -> None:
        for _ in range(limit):
            a, b = self.sp_transport.value(), self.ismg_transport.value()
            if not a and not b:
                break
            self.sp_transport.clear()
            self.ismg_transport.clear()
            if a and not self.ismg_transport.disconnecting:
                self.ismg_side.dataReceived(a)
            if b and not self.sp_transport.disconnecting:
                self.sp.dataReceived(b)
        if self.sp_transport.disconnecting or self.ismg_transport.disconnecting:
            self.close()

    def close(self) -> None:
        if not getattr(self, "_closed", False):
            self._closed = True
            self.sp.connectionLost(None)
            self.ismg_side.connectionLost(None)

    @property
    def session(self):
        return self.sp.session

    def submit(self, body):
        """Submit through the SP session; a list that gets the Msg_Id or the exception."""
        out = []
        self.session.submit(body, out.append)
        return out


class FakeIsmgEnd:
    """The ISMG side of one StringTransport connection to an SpProtocol, played by the test."""

    def __init__(self, version=0x30, secret="s3cret", clock=None, **sp):
        from gateway.cmpp.framing import split_frames  # noqa: F401 - used below
        self.clock = clock or task.Clock()
        self.version = version
        self.secret = secret
        self.events = Events()
        sp.setdefault("sp_id", "901234")
        sp.setdefault("shared_secret", secret)
        self.protocol = SpProtocol(self.events, self.clock, SessionSettings(version=version, **sp))
        self.transport = StringTransport()
        self.bound = self.protocol.when_bound()
        self.protocol.makeConnection(self.transport)

    def received(self):
        from gateway.cmpp.framing import split_frames
        from gateway.cmpp.pdu import decode

        frames, rest = split_frames(self.transport.value())
        assert rest == b""
        self.transport.clear()
        return [decode(f, self.version) for f in frames]

    def send(self, *pdus) -> None:
        from gateway.cmpp.pdu import encode

        self.protocol.dataReceived(b"".join(encode(p, self.version) for p in pdus))

    def accept_connect(self, status=0, authenticator=None):
        from gateway.cmpp.auth import authenticator_ismg
        from gateway.cmpp.pdu import CommandId, ConnectResp, Pdu

        (connect,) = self.received()
        auth = authenticator if authenticator is not None else authenticator_ismg(
            status, connect.body.authenticator, self.secret, self.version)
        self.send(Pdu(CommandId.CONNECT_RESP, connect.sequence, ConnectResp(status, auth, self.version)))
        return connect
