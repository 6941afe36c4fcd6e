"""The SP side of one CMPP connection to an ISMG, without I/O.

`SpSession` owns the connect handshake (and the AuthenticatorISMG check), sequence
numbers, the submit window and its FIFO, resends on a missing response (T, N), the
ACTIVE_TEST keep-alive (C idle, then N tries before giving up), flow control (Result 8:
pause and resend, with backoff) and TERMINATE. It is fed decoded PDUs and says what to
do through a `SessionListener`; timers come from an injected clock (`callLater`,
`seconds`), so tests drive it with `twisted.internet.task.Clock`.

Errors toward the pipeline are the SMPP link's (`SubmitRejected`, `LinkDown`), so the
outbox sender cannot tell the protocol apart.
"""
from __future__ import annotations

import enum
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from gateway.cmpp.auth import authenticator_source, authenticator_ismg, timestamp_digits
from gateway.cmpp.framing import FramingError
from gateway.cmpp.pdu import (
    MAX_SEQUENCE,
    RESPONSE_BIT,
    ActiveTestResp,
    CommandId,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    Empty,
    Pdu,
    PduError,
    Result,
    Submit,
    SubmitResp,
    Version,
    encode,
)
from gateway.links.session import SessionCore
from gateway.smpp.session import LinkDown, SubmitRejected

log = logging.getLogger(__name__)

RESULT_TIMEOUT = -1  # SubmitRejected.status when no SUBMIT_RESP came after every resend
RESULT_BAD_RESP = -2  # a SUBMIT_RESP we could not read: the ISMG may have the message
TRANSIENT_RESULTS = frozenset({Result.FLOW_CONTROL, RESULT_TIMEOUT, RESULT_BAD_RESP})


class State(enum.Enum):
    OPEN = "open"
    CONNECTING = "connecting"
    BOUND = "bound"  # connected and authenticated; named as in SMPP so links read alike
    TERMINATING = "terminating"
    CLOSED = "closed"


class ConnectRefused(Exception):
    """The ISMG refused the CONNECT (status), or proved it does not know our secret."""

    def __init__(self, status: int, reason: str = ""):
        super().__init__(reason or f"CMPP connect refused: status {status}")
        self.status = status


AUTH_MISMATCH = 0x100  # ConnectRefused.status when AuthenticatorISMG does not check out
NO_ANSWER = 0x101  # ConnectRefused.status when the connection ended while connecting


class SessionListener(Protocol):
    def send_bytes(self, data: bytes) -> None: ...
    def disconnect(self) -> None: ...
    def session_bound(self) -> None: ...
    def bind_failed(self, error: ConnectRefused) -> None: ...
    def slot_freed(self) -> None: ...
    def deliver_received(self, deliver: Deliver, reply: Callable[[int], None]) -> None:
        """Answer with reply(result) once the message is dealt with; at most once."""


SubmitCallback = Callable[[Any], None]  # called with the Msg_Id (int) or an exception


@dataclass(frozen=True)
class SessionSettings:
    sp_id: str = "901234"
    shared_secret: str = ""
    version: int = Version.V30
    window: int = 16  # the specification's recommended sliding window
    rate: float = 0.0  # submits per second; 0 = no limit but the window
    active_test_interval: float = 180.0  # C: idle seconds before ACTIVE_TEST
    response_timeout: float = 60.0  # T: seconds to wait for any response
    retries: int = 3  # N: sends of a request before giving up on it
    flow_control_backoff: float = 1.0  # first pause after Result 8, doubled while it lasts
    flow_control_max: float = 30.0
    flow_control_retries: int = 3  # resends after Result 8 before the pipeline hears of it
    terminate_timeout: float = 2.0


def local_timestamp(seconds: float) -> str:
    """MMDDHHMMSS of a clock reading, in local time as the specification wants."""
    t = time.localtime(seconds)
    return timestamp_digits(t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def rejection(result: int, reason: str = "") -> SubmitRejected:
    error = SubmitRejected(result, result in TRANSIENT_RESULTS, reason or f"CMPP submit refused: Result {result}")
    return error


@dataclass
class _Pending:
    command_id: CommandId
    pdu: Pdu
    timer: Any
    on_done: SubmitCallback | None = None
    sends: int = 1
    flow_retries: int = 0


class SpSession(SessionCore):
    bound_state = State.BOUND
    closed_state = State.CLOSED
    max_sequence = MAX_SEQUENCE
    keepalive_command = CommandId.ACTIVE_TEST

    def __init__(self, listener: SessionListener, clock, settings: SessionSettings):
        super().__init__(listener, clock, settings)
        self.version = settings.version
        self.state = State.OPEN
        self._pending: dict[int, _Pending] = {}
        self._queue: deque[tuple[Submit, SubmitCallback, int]] = deque()
        self._terminate_timer = None
        self._paused_until = 0.0
        self._flow_pause = settings.flow_control_backoff
        self._auth_source = b""
        self._failure_told = False

    # --- owner's calls ------------------------------------------------------------------

    def start(self) -> None:
        """The connection is up: send CONNECT."""
        if self.state is not State.OPEN:
            return
        self.state = State.CONNECTING
        s = self.settings
        stamp = local_timestamp(self.clock.seconds())
        self._auth_source = authenticator_source(s.sp_id, s.shared_secret, stamp)
        self._request(CommandId.CONNECT, Connect(s.sp_id, self._auth_source, s.version, int(stamp)),
                      resend=False)

    def capacity(self) -> int:
        if self.state is not State.BOUND:
            return 0
        return max(0, self.settings.window - self._in_flight - len(self._queue))

    def submit(self, body: Submit, on_done: SubmitCallback) -> None:
        """Queue a SUBMIT; `on_done` gets the Msg_Id (int) or an exception."""
        if self.state is not State.BOUND:
            on_done(LinkDown(f"not connected ({self.state.value})"))
            return
        self._queue.append((body, on_done, 0))
        self._pump()

    def stop(self) -> None:
        """TERMINATE (waiting briefly for its resp), then disconnect."""
        self._fail_queue(LinkDown("link stopping"))
        if self.state is State.BOUND:
            self.state = State.TERMINATING
            self._cancel(self._idle_timer)
            self._request(CommandId.TERMINATE, Empty(), resend=False)
            self._terminate_timer = self.clock.callLater(
                self.settings.terminate_timeout, self._close_and_disconnect)
        elif self.state is not State.TERMINATING:
            self._close_and_disconnect()

    def connection_lost(self) -> None:
        was = self.state
        self.state = State.CLOSED
        self._fail_outstanding(LinkDown("connection lost with the submit in flight"),
                               (self._pump_timer, self._idle_timer, self._terminate_timer))
        self._fail_queue(LinkDown("connection lost"))
        if was is State.CONNECTING:
            self._tell_failure(ConnectRefused(NO_ANSWER, "connection ended before CONNECT_RESP"))

    def bad_pdu(self, error: PduError) -> None:
        """A frame that did not decode: answer a DELIVER with its Result; log the rest."""
        self._last_received = self.clock.seconds()
        if self.state is State.CLOSED:
            return
        log.warning("bad CMPP PDU from the ISMG: %s", error)
        cid = error.command_id
        if cid == CommandId.DELIVER and self.state is State.BOUND:
            self._send(Pdu(CommandId.DELIVER_RESP, error.sequence,
                           DeliverResp(error.msg_id, error.result)))
        elif cid == CommandId.ACTIVE_TEST:
            self._send(Pdu(CommandId.ACTIVE_TEST_RESP, error.sequence, ActiveTestResp()))
        elif cid & RESPONSE_BIT and error.sequence in self._pending:
            item = self._pending[error.sequence]
            if item.command_id is CommandId.SUBMIT:
                self._resolve_submit(error.sequence, RESULT_BAD_RESP, 0)
            elif item.command_id is CommandId.CONNECT:
                self._pending.pop(error.sequence)
                self._cancel(item.timer)
                self._tell_failure(ConnectRefused(error.result, f"unreadable CONNECT_RESP: {error}"))
                self._close_and_disconnect()

    def corrupt_stream(self, error: FramingError) -> None:
        log.warning("corrupt CMPP stream: %s", error)
        self._close_and_disconnect()

    # --- requests we send ---------------------------------------------------------------

    def _send(self, pdu: Pdu) -> None:
        self.listener.send_bytes(encode(pdu, self.version))

    def _request(self, command_id: CommandId, body, on_done: SubmitCallback | None = None,
                 resend: bool = True, flow_retries: int = 0) -> None:
        seq = self._sequence()
        while seq in self._pending:
            seq = self._sequence()
        pdu = Pdu(command_id, seq, body)
        data = encode(pdu, self.version)  # a ValueError here leaves nothing pending
        timer = self.clock.callLater(self.settings.response_timeout, self._timed_out, seq)
        self._pending[seq] = _Pending(command_id, pdu, timer, on_done,
                                      sends=1 if resend else self.settings.retries,
                                      flow_retries=flow_retries)
        self.listener.send_bytes(data)

    def _pump_wait(self) -> float:
        """The rate limit, and any flow-control pause."""
        return max(self._bucket.wait_time(), self._paused_until - self.clock.seconds())

    def _send_queued(self, item: tuple[Submit, SubmitCallback, int]) -> None:
        body, on_done, flow_retries = item
        try:
            self._request(CommandId.SUBMIT, body, on_done, flow_retries=flow_retries)
        except ValueError as e:
            self._in_flight -= 1
            on_done(SubmitRejected(Result.BAD_STRUCTURE, False, f"cannot encode SUBMIT: {e}"))

    def _timed_out(self, seq: int) -> None:
        item = self._pending.get(seq)
        if item is None:
            return
        if item.sends < self.settings.retries:
            item.sends += 1
            log.info("no answer to %s seq %d; sending it again (%d of %d)", item.command_id.name,
                     seq, item.sends, self.settings.retries)
            item.timer = self.clock.callLater(self.settings.response_timeout, self._timed_out, seq)
            self._send(item.pdu)
            return
        if item.command_id is CommandId.SUBMIT:
            self._resolve_submit(seq, RESULT_TIMEOUT, 0)
            return
        log.warning("no answer to %s after %d tries; dropping the connection",
                    item.command_id.name, item.sends)
        self._pending.pop(seq)
        self._close_and_disconnect()

    def _tell_failure(self, error: ConnectRefused) -> None:
        if not self._failure_told:
            self._failure_told = True
            self.listener.bind_failed(error)

    # --- what the ISMG sends ------------------------------------------------------------

    def _response_received(self, pdu: Pdu) -> None:
        item = self._pending.get(pdu.sequence)
        expected = (item.command_id | RESPONSE_BIT) if item is not None else None
        if item is None or pdu.command_id != expected:
            log.info("%s for unknown sequence %d ignored", pdu.command_id.name, pdu.sequence)
            return
        if item.command_id is CommandId.SUBMIT:
            body: SubmitResp = pdu.body
            self._resolve_submit(pdu.sequence, body.result, body.msg_id)
            return
        self._pending.pop(pdu.sequence)
        self._cancel(item.timer)
        if item.command_id is CommandId.CONNECT:
            self._connected(pdu.body)
        elif item.command_id is CommandId.TERMINATE:
            self._close_and_disconnect()
        # ACTIVE_TEST_RESP: nothing beyond clearing the timer.

    def _connected(self, resp: ConnectResp) -> None:
        if resp.status != 0:
            log.warning("CMPP connect refused: status %d", resp.status)
            self._tell_failure(ConnectRefused(resp.status))
            self._close_and_disconnect()
            return
        expected = authenticator_ismg(resp.status, self._auth_source, self.settings.shared_secret,
                                      self.version)
        if resp.authenticator != expected:
            log.warning("AuthenticatorISMG does not match: not the ISMG we share a secret with")
            self._tell_failure(ConnectRefused(AUTH_MISMATCH, "AuthenticatorISMG does not match"))
            self._close_and_disconnect()
            return
        if resp.version != self.version:
            log.info("ISMG answered version 0x%02X to our 0x%02X", resp.version, self.version)
        self.state = State.BOUND
        self._schedule_idle(self.settings.active_test_interval)
        self.listener.session_bound()

    def _resolve_submit(self, seq: int, result: int, msg_id: int) -> None:
        item = self._pending.pop(seq)
        self._cancel(item.timer)
        self._in_flight -= 1
        if result == Result.FLOW_CONTROL and item.flow_retries < self.settings.flow_control_retries \
                and self.state is State.BOUND:
            self._flow_controlled()
            self._queue.appendleft((item.pdu.body, item.on_done, item.flow_retries + 1))
            self._pump()
            return
        if result == Result.OK:
            self._flow_pause = self.settings.flow_control_backoff
        self._pump()
        if result == Result.OK:
            item.on_done(msg_id)
        elif result == RESULT_TIMEOUT:
            item.on_done(rejection(result, "no SUBMIT_RESP after every resend"))
        else:
            if result == Result.FLOW_CONTROL:
                self._flow_controlled()
            item.on_done(rejection(result))
        if self.state is State.BOUND:
            self.listener.slot_freed()

    def _flow_controlled(self) -> None:
        """Result 8: hold every submit for a while, longer each time it comes again."""
        now = self.clock.seconds()
        if self._paused_until <= now:
            log.info("ISMG flow control (Result 8): pausing submits %.2fs", self._flow_pause)
            self._paused_until = now + self._flow_pause
            self._flow_pause = min(self._flow_pause * 2, self.settings.flow_control_max)

    def _request_received(self, pdu: Pdu) -> None:
        cid = pdu.command_id
        if cid is CommandId.ACTIVE_TEST:
            self._send(Pdu(CommandId.ACTIVE_TEST_RESP, pdu.sequence, ActiveTestResp()))
        elif cid is CommandId.TERMINATE:
            log.info("the ISMG terminates the connection")
            self._send(Pdu(CommandId.TERMINATE_RESP, pdu.sequence, Empty()))
            self._close_and_disconnect()
        elif cid is CommandId.DELIVER:
            if self.state is not State.BOUND:
                self._send(Pdu(CommandId.DELIVER_RESP, pdu.sequence,
                               DeliverResp(pdu.body.msg_id, Result.BAD_COMMAND)))
                return
            self.listener.deliver_received(pdu.body, self._replier(pdu))
        else:
            log.info("ignoring %s from the ISMG (an SP does not serve it)", cid.name)

    def _replier(self, pdu: Pdu) -> Callable[[int], None]:
        """reply(result) for one DELIVER: sends DELIVER_RESP once, if still connected."""
        done = []

        def reply(result: int) -> None:
            if done or self.state is State.CLOSED:
                return
            done.append(result)
            self._send(Pdu(CommandId.DELIVER_RESP, pdu.sequence, DeliverResp(pdu.body.msg_id, result)))

        return reply

    # --- keep-alive ---------------------------------------------------------------------

    @property
    def keepalive_interval(self) -> float:
        return self.settings.active_test_interval

    def _keepalive_body(self) -> Empty:
        return Empty()
