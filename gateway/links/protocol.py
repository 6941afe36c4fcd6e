"""`LinkProtocol`: the thin Twisted protocol both links (SMPP's and CMPP's) share: frame,
decode, let the sans-IO session decide.

Everything with state lives in the session; this class only moves bytes between the
transport and the session and passes application events on to its owner (the link)
through `events`. Subclasses say which session, framing and codec they speak.
"""
from __future__ import annotations

from typing import Callable

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol

from gateway.net import set_nodelay


class LinkProtocol(Protocol):
    #: The session state after which no more bytes are read (each protocol has its own).
    closed_state = None
    #: The framing's and the codec's exceptions: a broken stream vs one bad PDU.
    framing_error: type[Exception] = Exception
    pdu_error: type[Exception] = Exception
    #: The largest frame accepted unless the caller says otherwise.
    default_max_length = 0

    def __init__(self, events, clock, settings, max_length: int | None = None):
        self.events = events
        self.clock = clock
        self.settings = settings
        self.max_length = self.default_max_length if max_length is None else max_length
        self.session = self.build_session(clock, settings)
        self._buffer = b""
        self._bound: Deferred = Deferred()
        self._closing: Deferred | None = None

    # --- for subclasses -----------------------------------------------------------------

    def build_session(self, clock, settings):
        """The sans-IO session this protocol drives (it is the session's listener)."""
        raise NotImplementedError

    def split_frames(self, buf: bytes) -> tuple[list[bytes], bytes]:
        """Whole frames and the rest; raises `framing_error` when the stream is broken."""
        raise NotImplementedError

    def decode(self, frame: bytes):
        """One frame as a PDU; raises `pdu_error` when it does not decode."""
        raise NotImplementedError

    # --- Twisted hooks ------------------------------------------------------------------

    def connectionMade(self) -> None:
        set_nodelay(self.transport)  # request/response PDUs: Nagle costs ~40 ms a trip
        self.session.start()

    def dataReceived(self, data: bytes) -> None:
        if self.session.state is self.closed_state:
            return
        try:
            frames, self._buffer = self.split_frames(self._buffer + data)
        except self.framing_error as e:
            self._buffer = b""
            self.session.corrupt_stream(e)
            return
        for frame in frames:
            if self.session.state is self.closed_state:
                return
            try:
                pdu = self.decode(frame)
            except self.pdu_error as e:
                self.session.bad_pdu(e)
                continue
            self.session.pdu_received(pdu)

    def connectionLost(self, reason=None) -> None:
        self.session.connection_lost()
        self._fire_closing()
        self.events.protocol_lost(self)

    # --- for the link -------------------------------------------------------------------

    def when_bound(self) -> Deferred:
        """Fires with this protocol once bound; fails when the bind does. Ask once."""
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

    def _fail_bind(self, error: Exception) -> None:
        if not self._bound.called:
            self._bound.errback(error)

    def slot_freed(self) -> None:
        self.events.slot_freed()

    def deliver_received(self, deliver, reply: Callable[[int], None]) -> None:
        self.events.deliver_received(deliver, reply)
