"""The thin Twisted protocol of one SP connection to an ISMG: frame, decode, let the
session decide. Everything with state lives in `SpSession`."""
from __future__ import annotations

from typing import Callable, Protocol as TypingProtocol

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol

from gateway.cmpp.framing import DEFAULT_MAX_LENGTH, FramingError, split_frames
from gateway.cmpp.pdu import Deliver, PduError, decode
from gateway.cmpp.session import ConnectRefused, SessionSettings, SpSession, State
from gateway.net import set_nodelay


class LinkEvents(TypingProtocol):
    def slot_freed(self) -> None: ...
    def deliver_received(self, deliver: Deliver, reply: Callable[[int], None]) -> None: ...
    def protocol_lost(self, protocol: SpProtocol) -> None: ...


class SpProtocol(Protocol):
    def __init__(self, events: LinkEvents, clock, settings: SessionSettings,
                 max_length: int = DEFAULT_MAX_LENGTH):
        self.events = events
        self.clock = clock
        self.max_length = max_length
        self.session = SpSession(self, clock, settings)
        self._buffer = b""
        self._bound: Deferred = Deferred()
        self._closing: Deferred | None = None

    # --- Twisted hooks ------------------------------------------------------------------

    def connectionMade(self) -> None:
        set_nodelay(self.transport)
        self.session.start()

    def dataReceived(self, data: bytes) -> None:
        if self.session.state is State.CLOSED:
            return
        try:
            frames, self._buffer = split_frames(self._buffer + data, self.max_length)
        except FramingError as e:
            self._buffer = b""
            self.session.corrupt_stream(e)
            return
        for frame in frames:
            if self.session.state is State.CLOSED:
                return
            try:
                pdu = decode(frame, self.session.version)
            except PduError as e:
                self.session.bad_pdu(e)
                continue
            self.session.pdu_received(pdu)

    def connectionLost(self, reason=None) -> None:
        self.session.connection_lost()
        self._fire_closing()
        self.events.protocol_lost(self)

    # --- for the link -------------------------------------------------------------------

    def when_bound(self) -> Deferred:
        """Fires with this protocol once connected; fails with ConnectRefused. Ask once."""
        return self._bound

    def unbind(self) -> Deferred:
        """TERMINATE (or just hang up when not connected); fires once we let go."""
        if self._closing is None:
            self._closing = Deferred()
        closing = self._closing
        self.session.stop()
        return closing

    def _fire_closing(self) -> None:
        if self._closing is not None and not self._closing.called:
            self._closing.callback(None)

    # --- SessionListener ----------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        self.transport.write(data)

    def disconnect(self) -> None:
        self.transport.loseConnection()
        self._fire_closing()

    def session_bound(self) -> None:
        if not self._bound.called:
            self._bound.callback(self)

    def bind_failed(self, error: ConnectRefused) -> None:
        if not self._bound.called:
            self._bound.errback(error)

    def slot_freed(self) -> None:
        self.events.slot_freed()

    def deliver_received(self, deliver: Deliver, reply: Callable[[int], None]) -> None:
        self.events.deliver_received(deliver, reply)
