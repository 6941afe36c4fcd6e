"""Test doubles around the simulator: an ESME speaking to an Smsc over a StringTransport.

In the package (not under tests/) so that any test suite can drive the simulated SMSC
without sockets.
"""
from __future__ import annotations

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from gateway.smpp.framing import split_frames
from gateway.smpp.pdu import Bind, CommandId, Pdu, Sm, SmResp, Status, decode, encode
from sim.smsc import Smsc, SmscSettings
from sim.smsc_session import SmscFactory


def make_smsc(clock=None, **settings) -> Smsc:
    settings.setdefault("seed", 7)
    return Smsc(clock or task.Clock(), SmscSettings(**settings))


class FakeEsme:
    """One connection to the SMSC's protocol; reads what the SMSC wrote as PDUs."""

    def __init__(self, smsc: Smsc):
        self.smsc = smsc
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
        self.protocol = SmscFactory(smsc).buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        self._sequence = 0
        self._rest = b""
        self._unread: list[Pdu] = []

    def send(self, pdu: Pdu) -> None:
        self.protocol.dataReceived(encode(pdu))

    def send_raw(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def request(self, command_id, body) -> int:
        self._sequence += 1
        self.send(Pdu(command_id, self._sequence, 0, body))
        return self._sequence

    def received(self) -> list[Pdu]:
        """PDUs the SMSC wrote since the last call."""
        data = self._rest + self.transport.value()
        self.transport.clear()
        frames, self._rest = split_frames(data)
        pdus, self._unread = self._unread + [decode(frame) for frame in frames], []
        return pdus

    def _response(self) -> Pdu:
        """The first PDU the SMSC wrote (the resp just asked for); the rest stay unread."""
        first, *self._unread = self.received()
        return first

    def bind(self, command_id=CommandId.BIND_TRANSCEIVER, system_id="merp", password="secret") -> Pdu:
        self.request(command_id, Bind(system_id=system_id, password=password))
        return self._response()

    def submit(self, text: bytes = b"hello", to="13800000001", registered_delivery=1, **fields) -> Pdu:
        body = Sm(source_addr="106571234501", destination_addr=to, short_message=text,
                  registered_delivery=registered_delivery, **fields)
        self.request(CommandId.SUBMIT_SM, body)
        return self._response()

    def ack(self, pdu: Pdu, status=Status.ESME_ROK) -> None:
        self.send(Pdu(CommandId.DELIVER_SM_RESP, pdu.sequence, status, SmResp()))

    def drop(self) -> None:
        self.protocol.connectionLost(None)


class BoundFake:
    """A stand-in for a bound SmscSession, for tests of what sits on the other side of the
    SMSC (the load runner): always ready, nothing in flight; subclasses say what
    `deliver(delivery)` does."""

    mode = "transceiver"

    def __init__(self, smsc: Smsc):
        self.smsc = smsc
        smsc.session_bound(self)

    def can_deliver(self) -> bool:
        return True

    def in_flight_count(self) -> int:
        return 0

    def in_flight_deliveries(self) -> list:
        return []

    def describe(self) -> dict:
        return {"mode": self.mode}


def run_to_end(runner, clock: task.Clock, limit: int = 100_000):
    """Run a load runner to its end, stepping the clock exactly to each next timer; its
    result."""
    results = []
    runner.run().addCallback(results.append)
    for _ in range(limit):
        if results:
            return results[0]
        calls = clock.getDelayedCalls()
        assert calls, "the load run is stuck with nothing scheduled"
        clock.advance(max(0.0, min(c.getTime() for c in calls) - clock.seconds()))
    raise AssertionError("the load run did not finish")
