"""The thin Twisted protocol of one ESME connection: frame, decode, let the session decide.

Everything with state (bind, window, timers) is in `EsmeSession`; this class only moves
bytes between the transport and the session and passes application events on to its
owner (the `SmppLink`) through `LinkEvents`.
"""
from __future__ import annotations

from typing import Callable, Protocol as TypingProtocol

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol

from gateway.net import set_nodelay
from gateway.smpp.framing import DEFAULT_MAX_LENGTH, FramingError, split_frames
from gateway.smpp.pdu import PduError, Sm, Status, decode
from gateway.smpp.session import EsmeSession, SessionSettings, State


class BindFailed(Exception):
    """The SMSC refused the bind, did not answer it, or hung up while binding."""

    def __init__(self, status: int):
        name = Status(status).name if status in Status._value2member_map_ else hex(status)
        super().__init__(f"bind failed: {name}")
        self.status = status


class LinkEvents(TypingProtocol):
    def slot_freed(self) -> None: ...
    def deliver_received(self, sm: Sm, reply: Callable[[int], None]) -> None: ...
    def protocol_lost(self, protocol: EsmeProtocol) -> None: ...


class EsmeProtocol(Protocol):
    def __init__(self, events: LinkEvents, clock, settings: SessionSettings,
                 max_length: int = DEFAULT_MAX_LENGTH):
        self.events = events
        self.clock = clock
        self.settings = settings
        self.max_length = max_length
        self.session = EsmeSession(self, clock, settings)
        self._buffer = b""
        self._bound: Deferred = Deferred()
        self._closing: Deferred | None = None

    # --- Twisted hooks ------------------------------------------------------------------

    def connectionMade(self) -> None:
        set_nodelay(self.transport)  # request/response PDUs: Nagle costs ~40 ms a trip
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
                pdu = decode(frame)
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
        """Fires with this protocol once bound; fails with BindFailed. Ask once."""
        return self._bound

    def unbind(self) -> Deferred:
        """Unbind (or just hang up when not bound); fires once we let go of the connection."""
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

    def bind_failed(self, status: int) -> None:
        if not self._bound.called:
            self._bound.errback(BindFailed(status))

    def slot_freed(self) -> None:
        self.events.slot_freed()

    def deliver_received(self, sm: Sm, reply: Callable[[int], None]) -> None:
        self.events.deliver_received(sm, reply)
