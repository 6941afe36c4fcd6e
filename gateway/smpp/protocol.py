"""The thin Twisted protocol of one ESME connection: frame, decode, let the session decide.

Everything with state (bind, window, timers) is in `EsmeSession`; the shared plumbing is
in `gateway.links.protocol.LinkProtocol`. This module only says what SMPP speaks.
"""
from __future__ import annotations

from typing import Callable, Protocol as TypingProtocol

from gateway.links.protocol import LinkProtocol
from gateway.smpp import framing
from gateway.smpp.framing import DEFAULT_MAX_LENGTH, FramingError
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


class EsmeProtocol(LinkProtocol):
    closed_state = State.CLOSED
    framing_error = FramingError
    pdu_error = PduError
    default_max_length = DEFAULT_MAX_LENGTH

    def build_session(self, clock, settings: SessionSettings) -> EsmeSession:
        return EsmeSession(self, clock, settings)

    def split_frames(self, buf: bytes) -> tuple[list[bytes], bytes]:
        return framing.split_frames(buf, self.max_length)

    def decode(self, frame: bytes):
        return decode(frame)

    def bind_failed(self, status: int) -> None:
        self._fail_bind(BindFailed(status))
