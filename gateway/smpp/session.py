"""The ESME side of one SMPP connection, without I/O.

`EsmeSession` owns the bind state, sequence numbers, the submit window (and its FIFO),
response timers, keep-alive and the rate limit. It is fed decoded PDUs and says what to do
through a `SessionListener` (send these bytes, disconnect, bound, a deliver_sm came).
Timers come from an injected clock with `callLater` and `seconds` (IReactorTime-like), so
tests drive it with `twisted.internet.task.Clock` and no Twisted import is needed here.
"""
from __future__ import annotations

import enum
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from gateway.links.session import SessionCore, TokenBucket  # noqa: F401 (re-exported)
from gateway.smpp.framing import FramingError
from gateway.smpp.pdu import (
    MAX_SEQUENCE,
    RESPONSE_BIT,
    Bind,
    CommandId,
    Empty,
    Pdu,
    PduError,
    Sm,
    SmResp,
    Status,
    deliver_sm_resp,
    encode,
    generic_nack,
)

log = logging.getLogger(__name__)

STATUS_TIMEOUT = -1  # SubmitRejected.status when no submit_sm_resp came in time

TRANSIENT_STATUSES = frozenset({
    Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL, Status.ESME_RX_T_APPN,
    Status.ESME_RSYSERR, STATUS_TIMEOUT,
})

# Requests whose *_resp we can send back carrying an error status.
ANSWERABLE = frozenset({
    CommandId.BIND_RECEIVER, CommandId.BIND_TRANSMITTER, CommandId.BIND_TRANSCEIVER,
    CommandId.SUBMIT_SM, CommandId.DELIVER_SM, CommandId.UNBIND, CommandId.ENQUIRE_LINK,
})

BIND_COMMANDS = {
    "transceiver": CommandId.BIND_TRANSCEIVER,
    "transmitter": CommandId.BIND_TRANSMITTER,
    "receiver": CommandId.BIND_RECEIVER,
}


class SubmitRejected(Exception):
    """The SMSC refused a submit (or never answered); `transient` says retry later."""

    def __init__(self, status: int, transient: bool, reason: str = ""):
        name = Status(status).name if status in Status._value2member_map_ else str(status)
        super().__init__(reason or f"submit_sm refused: {name}")
        self.status = status
        self.transient = transient


class LinkDown(Exception):
    """Not bound, or the connection went away with the request in flight. Transient."""

    transient = True


def rejection(status: int, reason: str = "") -> SubmitRejected:
    return SubmitRejected(status, status in TRANSIENT_STATUSES, reason)


class State(enum.Enum):
    OPEN = "open"
    BINDING = "binding"
    BOUND = "bound"
    UNBINDING = "unbinding"
    CLOSED = "closed"


class SessionListener(Protocol):
    def send_bytes(self, data: bytes) -> None: ...
    def disconnect(self) -> None: ...
    def session_bound(self) -> None: ...
    def bind_failed(self, status: int) -> None: ...
    def slot_freed(self) -> None: ...
    def deliver_received(self, sm: Sm, reply: Callable[[int], None]) -> None:
        """Answer with reply(status) once the message is dealt with; at most once."""


SubmitCallback = Callable[[Any], None]  # called with a message_id (str) or an exception


@dataclass(frozen=True)
class SessionSettings:
    system_id: str = "merp"
    password: str = ""
    system_type: str = ""
    bind_mode: str = "transceiver"
    window: int = 10
    rate: float = 0.0  # submits per second; 0 means no limit
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    unbind_timeout: float = 2.0


@dataclass
class _Pending:
    command_id: CommandId
    timer: Any
    on_done: SubmitCallback | None = None


class EsmeSession(SessionCore):
    bound_state = State.BOUND
    closed_state = State.CLOSED
    max_sequence = MAX_SEQUENCE
    keepalive_command = CommandId.ENQUIRE_LINK

    def __init__(self, listener: SessionListener, clock, settings: SessionSettings):
        super().__init__(listener, clock, settings)
        self.state = State.OPEN
        self._pending: dict[int, _Pending] = {}
        self._queue: deque[tuple[Sm, SubmitCallback]] = deque()
        self._unbind_timer = None
        self._bind_failure_told = False

    # --- owner's calls ------------------------------------------------------------------

    def start(self) -> None:
        """The connection is up: send the bind."""
        if self.state is not State.OPEN:
            return
        self.state = State.BINDING
        body = Bind(self.settings.system_id, self.settings.password, self.settings.system_type)
        self._request(BIND_COMMANDS[self.settings.bind_mode], body)

    def capacity(self) -> int:
        """Free window slots now (0 unless bound; always 0 on a receiver-only bind)."""
        if self.state is not State.BOUND or self.settings.bind_mode == "receiver":
            return 0
        return max(0, self.settings.window - self._in_flight - len(self._queue))

    def submit(self, sm: Sm, on_done: SubmitCallback) -> None:
        """Queue a submit_sm; `on_done` gets the SMSC message_id or an exception."""
        if self.state is not State.BOUND:
            on_done(LinkDown(f"not bound ({self.state.value})"))
            return
        if self.settings.bind_mode == "receiver":
            on_done(LinkDown("a receiver bind cannot submit; another link must carry it"))
            return
        self._queue.append((sm, on_done))
        self._pump()

    def stop(self) -> None:
        """Unbind (waiting briefly for unbind_resp), then disconnect."""
        self._fail_queue(LinkDown("link stopping"))
        if self.state is State.BOUND:
            self.state = State.UNBINDING
            self._cancel(self._idle_timer)
            self._request(CommandId.UNBIND, Empty())
            self._unbind_timer = self.clock.callLater(
                self.settings.unbind_timeout, self._close_and_disconnect)
        elif self.state is not State.UNBINDING:
            self._close_and_disconnect()

    def connection_lost(self) -> None:
        """The transport is gone: fail everything outstanding, stop every timer."""
        was = self.state
        self.state = State.CLOSED
        self._fail_outstanding(LinkDown("connection lost with the submit in flight"),
                               (self._pump_timer, self._idle_timer, self._unbind_timer))
        self._fail_queue(LinkDown("connection lost"))
        if was is State.BINDING and not self._bind_failure_told:
            self._bind_failure_told = True
            self.listener.bind_failed(Status.ESME_RBINDFAIL)

    def bad_pdu(self, error: PduError) -> None:
        """A frame that did not decode: answer with its status and carry on."""
        self._last_received = self.clock.seconds()
        if self.state is State.CLOSED:
            return
        log.warning("bad PDU from the SMSC: %s", error)
        cid = error.command_id
        is_request = not cid & RESPONSE_BIT
        if is_request and cid in ANSWERABLE and error.status != Status.ESME_RINVCMDID:
            self._send(Pdu(CommandId(cid), error.sequence).response(status=error.status,
                                                                     body=Empty()))
        elif cid != CommandId.GENERIC_NACK:
            self._send(generic_nack(error.sequence, error.status))
        if not is_request and error.sequence in self._pending:
            self._resolve(error.sequence, error.status, None)

    def corrupt_stream(self, error: FramingError) -> None:
        """A length that cannot be framed: generic_nack ESME_RINVCMDLEN, then drop."""
        log.warning("corrupt SMPP stream: %s", error)
        if self.state is State.CLOSED:
            return
        self._send(generic_nack(error.sequence or 0, Status.ESME_RINVCMDLEN))
        self._close_and_disconnect()

    # --- requests we send ---------------------------------------------------------------

    def _send(self, pdu: Pdu) -> None:
        self.listener.send_bytes(encode(pdu))

    def _request(self, command_id: CommandId, body, on_done: SubmitCallback | None = None):
        seq = self._sequence()
        while seq in self._pending:
            seq = self._sequence()
        timer = self.clock.callLater(self.settings.response_timeout, self._timed_out, seq)
        self._pending[seq] = _Pending(command_id, timer, on_done)
        self._send(Pdu(command_id, seq, 0, body))

    def _send_queued(self, item: tuple[Sm, SubmitCallback]) -> None:
        sm, on_done = item
        try:
            self._request(CommandId.SUBMIT_SM, sm, on_done)
        except PduError as e:
            self._in_flight -= 1
            on_done(SubmitRejected(e.status, False, f"cannot encode submit_sm: {e}"))

    def _timed_out(self, seq: int) -> None:
        item = self._pending.get(seq)
        if item is None:
            return
        if item.command_id is CommandId.SUBMIT_SM:
            log.warning("no submit_sm_resp for sequence %d in %.1fs", seq,
                        self.settings.response_timeout)
            self._resolve(seq, STATUS_TIMEOUT, None)
            return
        log.warning("no answer to %s in %.1fs; dropping the connection",
                    item.command_id.name, self.settings.response_timeout)
        self._pending.pop(seq)
        self._close_and_disconnect()

    # --- what the SMSC sends ------------------------------------------------------------

    def _response_received(self, pdu: Pdu) -> None:
        if pdu.sequence not in self._pending:
            log.info("%s for unknown sequence %d ignored", pdu.command_id.name, pdu.sequence)
            return
        message_id = pdu.body.message_id if isinstance(pdu.body, SmResp) else ""
        if pdu.command_id is CommandId.GENERIC_NACK and pdu.status == 0:
            self._resolve(pdu.sequence, Status.ESME_RUNKNOWNERR, message_id)
        else:
            self._resolve(pdu.sequence, pdu.status, message_id)

    def _resolve(self, seq: int, status: int, message_id: str | None) -> None:
        item = self._pending.pop(seq)
        self._cancel(item.timer)
        cid = item.command_id
        if cid is CommandId.SUBMIT_SM:
            self._in_flight -= 1
            self._pump()
            if status == 0 and message_id is not None:
                item.on_done(message_id)
            elif status == STATUS_TIMEOUT:
                item.on_done(rejection(status, "no submit_sm_resp in time"))
            else:
                item.on_done(rejection(status))
            if self.state is State.BOUND:
                self.listener.slot_freed()
        elif cid in BIND_COMMANDS.values():
            if status == 0 and message_id is not None:
                self.state = State.BOUND
                self._schedule_idle(self.settings.enquire_link_interval)
                self.listener.session_bound()
            else:
                log.warning("bind refused: status 0x%X", status)
                self._bind_failure_told = True
                self.listener.bind_failed(status)
                self._close_and_disconnect()
        elif cid is CommandId.UNBIND:
            self._close_and_disconnect()
        # enquire_link_resp: nothing beyond clearing the timer.

    def _request_received(self, pdu: Pdu) -> None:
        cid = pdu.command_id
        if cid is CommandId.ENQUIRE_LINK:
            self._send(pdu.response())
        elif cid is CommandId.UNBIND:
            self._send(pdu.response())
            self._close_and_disconnect()
        elif cid is CommandId.DELIVER_SM:
            if self.state is not State.BOUND or self.settings.bind_mode == "transmitter":
                self._send(pdu.response(status=Status.ESME_RINVBNDSTS))
                return
            self.listener.deliver_received(pdu.body, self._replier(pdu))
        else:
            self._send(generic_nack(pdu.sequence, Status.ESME_RINVCMDID))

    def _replier(self, pdu: Pdu) -> Callable[[int], None]:
        """reply(status) for one deliver_sm: sends deliver_sm_resp once, if still connected."""
        done = []

        def reply(status: int) -> None:
            if done or self.state is State.CLOSED:
                return
            done.append(status)
            self.listener.send_bytes(deliver_sm_resp(pdu.sequence, status))

        return reply

    # --- keep-alive ---------------------------------------------------------------------

    @property
    def keepalive_interval(self) -> float:
        return self.settings.enquire_link_interval

    def _keepalive_body(self) -> Empty:
        return Empty()
