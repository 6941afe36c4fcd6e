"""What the simulated SMS centre (SMPP) and ISMG (CMPP) sessions share: the window of
deliveries toward the client, each waiting for its resp or its timeout and given back to
the centre, first in line, when the connection goes; and the thin Twisted protocol that
frames and decodes bytes for a session.

A session is sans-IO (STYLE.md): it is given ``send(pdu)`` and ``close()`` and the centre's
clock, so tests drive it with StringTransport and task.Clock. Subclasses say how a
delivery PDU is built and read; the centre (``sim.smsc.Smsc`` or ``sim.ismg.Ismg``) is
known as ``self.smsc``, the name its shared delivery queue code uses.
"""
from __future__ import annotations

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from gateway.net import set_nodelay

log = Logger()


class CenterSession:
    """The centre's side of one client connection: deliveries in flight and sequences."""

    #: The protocol's largest sequence number (then it wraps to 1).
    max_sequence = 0x7FFFFFFF

    def __init__(self, center, send, close, peer: str = "?"):
        self.smsc = center
        self.clock = center.clock
        self._send = send
        self._close = close
        self.peer = peer
        self.mode: str | None = None
        self.system_id = ""
        self._sequence = 0
        self._in_flight: dict[int, tuple] = {}  # sequence -> (Delivery, timeout call, sent at)
        self.closed = False

    # -- for subclasses --------------------------------------------------------------------

    def receives(self) -> bool:
        """Whether the client is bound to receive deliveries."""
        return self.mode is not None

    def delivery_pdu(self, sequence: int, delivery):
        """The PDU that carries ``delivery`` (a deliver_sm or a CMPP DELIVER)."""
        raise NotImplementedError

    def connection_ending(self) -> None:
        """Cancel the subclass's own timers; called once, before deliveries are given back."""

    # -- what the centre asks of a session ---------------------------------------------------

    def can_deliver(self) -> bool:
        return not self.closed and self.receives() and len(self._in_flight) < self.smsc.settings.window

    def deliver(self, delivery) -> None:
        """Send one delivery and wait (response_timeout) for its resp."""
        sequence = self._next_sequence()
        timer = self.clock.callLater(self.smsc.settings.response_timeout, self._timed_out, sequence)
        self._in_flight[sequence] = (delivery, timer, self.clock.seconds())
        self._send(self.delivery_pdu(sequence, delivery))

    def in_flight_count(self) -> int:
        return len(self._in_flight)

    def in_flight_deliveries(self) -> list:
        return [entry[0] for entry in self._in_flight.values()]

    def disconnect(self) -> None:
        """Close the connection from our side; deliveries in flight go back."""
        self.connection_lost()
        self._close()

    def connection_lost(self) -> None:
        """Give every unacknowledged delivery back to the centre, first in line."""
        if self.closed:
            return
        self.closed = True
        self.connection_ending()
        pending = []
        for sequence in sorted(self._in_flight):
            delivery, timer, _sent_at = self._in_flight[sequence]
            if timer.active():
                timer.cancel()
            pending.append(delivery)
        self._in_flight.clear()
        self.smsc.session_gone(self)
        if pending:
            self.smsc.taken_back(pending)

    # -- the window ----------------------------------------------------------------------------

    def settle(self, sequence: int, accepted: bool) -> None:
        """The resp of the delivery sent as ``sequence`` came: acknowledged or refused (to
        be retried). A late one (already timed out and taken back) or unknown is ignored."""
        entry = self._in_flight.pop(sequence, None)
        if entry is None:
            return
        delivery, timer, sent_at = entry
        if timer.active():
            timer.cancel()
        if accepted:
            self.smsc.ack_times[delivery.kind].append(self.clock.seconds() - sent_at)
            self.smsc.acknowledged(delivery)
        else:
            self.smsc.refused(delivery)

    def _timed_out(self, sequence: int) -> None:
        entry = self._in_flight.pop(sequence, None)
        if entry is not None:
            self.smsc.refused(entry[0], timed_out=True)

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % self.max_sequence + 1
        return self._sequence


class CenterProtocol(Protocol):
    """Frames and decodes bytes, hands PDUs to its session, writes what the session sends.
    Subclasses give the session class, the framing, the codec and what a broken stream
    gets before the connection is dropped."""

    session_class: type[CenterSession] = CenterSession
    framing_error: type[Exception] = Exception
    pdu_error: type[Exception] = Exception
    name = "?"

    def __init__(self, center):
        self.center = center
        self.session: CenterSession | None = None
        self._buffer = b""

    def split_frames(self, buf: bytes) -> tuple[list[bytes], bytes]:
        raise NotImplementedError

    def decode(self, frame: bytes):
        raise NotImplementedError

    def encode(self, pdu) -> bytes:
        raise NotImplementedError

    def stream_broken(self, error: Exception) -> None:
        """A last word to the client before the connection is dropped (none by default)."""

    def connectionMade(self):
        set_nodelay(self.transport)
        peer = self.transport.getPeer()
        name = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        self.session = self.session_class(self.center, self._write, self.transport.loseConnection, name)

    def dataReceived(self, data: bytes):
        if self.session is None or self.session.closed:
            return
        self._buffer += data
        try:
            frames, self._buffer = self.split_frames(self._buffer)
        except self.framing_error as exc:
            log.warn("corrupt {name} stream from {peer}: {error}", name=self.name,
                     peer=self.session.peer, error=exc)
            self._buffer = b""
            self.stream_broken(exc)
            self.session.disconnect()
            return
        for frame in frames:
            if self.session.closed:
                return
            try:
                pdu = self.decode(frame)
            except self.pdu_error as exc:
                self.session.bad_pdu(exc)
                continue
            self.session.pdu_received(pdu)

    def connectionLost(self, reason=None):
        if self.session is not None:
            self.session.connection_lost()

    def _write(self, pdu) -> None:
        self.transport.write(self.encode(pdu))


class CenterFactory(Factory):
    """One protocol per client connection, all sharing one centre."""

    protocol: type[CenterProtocol] = CenterProtocol

    def __init__(self, center):
        self.center = center

    def buildProtocol(self, addr):
        protocol = self.protocol(self.center)
        protocol.factory = self
        return protocol
