"""The thin Twisted protocol of one SP connection to an ISMG: frame, decode, let the
session decide. Everything with state lives in `SpSession`; the shared plumbing is in
`gateway.links.protocol.LinkProtocol`. This module only says what CMPP speaks."""
from __future__ import annotations

from typing import Callable, Protocol as TypingProtocol

from gateway.cmpp import framing
from gateway.cmpp.framing import DEFAULT_MAX_LENGTH, FramingError
from gateway.cmpp.pdu import Deliver, PduError, decode
from gateway.cmpp.session import ConnectRefused, SessionSettings, SpSession, State
from gateway.links.protocol import LinkProtocol


class LinkEvents(TypingProtocol):
    def slot_freed(self) -> None: ...
    def deliver_received(self, deliver: Deliver, reply: Callable[[int], None]) -> None: ...
    def protocol_lost(self, protocol: SpProtocol) -> None: ...


class SpProtocol(LinkProtocol):
    closed_state = State.CLOSED
    framing_error = FramingError
    pdu_error = PduError
    default_max_length = DEFAULT_MAX_LENGTH

    def build_session(self, clock, settings: SessionSettings) -> SpSession:
        return SpSession(self, clock, settings)

    def split_frames(self, buf: bytes) -> tuple[list[bytes], bytes]:
        return framing.split_frames(buf, self.max_length)

    def decode(self, frame: bytes):
        """Decoded in the version the session negotiated (2.0 or 3.0)."""
        return decode(frame, self.session.version)

    def bind_failed(self, error: ConnectRefused) -> None:
        self._fail_bind(error)
