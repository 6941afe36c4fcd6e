"""One SP connection to the simulated ISMG: CONNECT, the SUBMIT window, DELIVERs toward the
SP within their own window (redelivered when not acknowledged), ACTIVE_TEST, TERMINATE,
and the thin Twisted protocol around it. Sans-IO like `sim.smsc_session`: the session is
given `send(pdu)` and `close()`, and the ISMG's clock."""
from __future__ import annotations

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from gateway.cmpp.auth import authenticator_ismg
from gateway.cmpp.framing import FramingError, split_frames
from gateway.cmpp.pdu import (
    MAX_SEQUENCE,
    ActiveTestResp,
    CommandId,
    ConnectResp,
    DeliverResp,
    Empty,
    Pdu,
    PduError,
    Result,
    SubmitResp,
    Version,
    decode,
    encode,
)
from gateway.net import set_nodelay

log = Logger()


class IsmgSession:
    """The ISMG's side of one CMPP connection."""

    def __init__(self, ismg, send, close, peer: str = "?"):
        self.smsc = ismg  # the name the shared delivery queue code knows it by
        self.clock = ismg.clock
        self._send = send
        self._close = close
        self.peer = peer
        self.mode: str | None = None  # "transceiver" once connected (as SMPP sessions say)
        self.system_id = ""
        self.version = Version.V30
        self._sequence = 0
        self._in_flight: dict[int, tuple] = {}  # sequence -> (Delivery, timeout call)
        self._submits_open = 0  # SUBMITs not yet answered (submit_delay)
        self._answers: set = set()
        self.closed = False

    # -- what the ISMG asks of a session -------------------------------------------------

    def can_deliver(self) -> bool:
        return not self.closed and self.mode is not None and \
            len(self._in_flight) < self.smsc.settings.window

    def deliver(self, delivery) -> None:
        sequence = self._next_sequence()
        timer = self.clock.callLater(self.smsc.settings.response_timeout, self._timed_out, sequence)
        self._in_flight[sequence] = (delivery, timer, self.clock.seconds())
        self._send(Pdu(CommandId.DELIVER, sequence, delivery.body))

    def in_flight_count(self) -> int:
        return len(self._in_flight)

    def in_flight_deliveries(self) -> list:
        return [entry[0] for entry in self._in_flight.values()]

    def describe(self) -> dict:
        return {"system_id": self.system_id, "mode": self.mode, "peer": self.peer,
                "in_flight": len(self._in_flight), "version": hex(self.version)}

    def terminate(self) -> None:
        """Ask the SP to go (TERMINATE); the SP answers and hangs up."""
        if not self.closed:
            self._send(Pdu(CommandId.TERMINATE, self._next_sequence(), Empty()))

    def disconnect(self) -> None:
        self.connection_lost()
        self._close()

    # -- input -----------------------------------------------------------------------------

    def pdu_received(self, pdu: Pdu) -> None:
        cid = pdu.command_id
        if pdu.is_response:
            self._response(pdu)
        elif cid is CommandId.CONNECT:
            self._connect(pdu)
        elif cid is CommandId.ACTIVE_TEST:
            self._send(Pdu(CommandId.ACTIVE_TEST_RESP, pdu.sequence, ActiveTestResp()))
        elif cid is CommandId.TERMINATE:
            self._send(Pdu(CommandId.TERMINATE_RESP, pdu.sequence, Empty()))
            self.disconnect()
        elif self.mode is None:
            log.info("{cmd} before CONNECT from {peer}: hanging up", cmd=cid.name, peer=self.peer)
            self.disconnect()
        elif cid is CommandId.SUBMIT:
            self._submit(pdu)
        else:
            log.info("{cmd} from {peer} not served by the simulator", cmd=cid.name, peer=self.peer)

    def bad_pdu(self, error: PduError) -> None:
        if error.command_id == CommandId.SUBMIT and self.mode is not None:
            self._send(Pdu(CommandId.SUBMIT_RESP, error.sequence, SubmitResp(0, error.result)))
        elif error.command_id == CommandId.DELIVER_RESP:
            self._response(Pdu(CommandId.DELIVER_RESP, error.sequence, DeliverResp(0, Result.BAD_STRUCTURE)))
        else:
            log.info("unreadable CMPP PDU from {peer}: {error}", peer=self.peer, error=error)

    def connection_lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        for call in list(self._answers):
            if call.active():
                call.cancel()
        self._answers.clear()
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

    # -- handlers ----------------------------------------------------------------------------

    def _connect(self, pdu: Pdu) -> None:
        body = pdu.body
        self.version = self.smsc.version_of(body.version)
        if self.mode is not None:
            log.info("second CONNECT from {peer} ignored", peer=self.peer)
            return
        status = self.smsc.check_connect(body.source_addr, body.authenticator, body.version,
                                         body.timestamp)
        auth = authenticator_ismg(status, body.authenticator, self.smsc.settings.shared_secret,
                                  self.version) if status == 0 else b"\0" * 16
        self._send(Pdu(CommandId.CONNECT_RESP, pdu.sequence, ConnectResp(status, auth, self.version)))
        if status != 0:
            log.info("CONNECT refused for {sp!r} from {peer}: status {status}",
                     sp=body.source_addr, peer=self.peer, status=status)
            self.disconnect()
            return
        self.mode = "transceiver"
        self.system_id = body.source_addr
        self.smsc.session_bound(self)

    def _submit(self, pdu: Pdu) -> None:
        settings = self.smsc.settings
        if self._submits_open >= settings.submit_window:
            self.smsc.flow_controlled()
            self._send(Pdu(CommandId.SUBMIT_RESP, pdu.sequence, SubmitResp(0, Result.FLOW_CONTROL)))
            return
        result, msg_id = self.smsc.submit(pdu.body)
        resp = Pdu(CommandId.SUBMIT_RESP, pdu.sequence, SubmitResp(msg_id, result))
        if settings.submit_delay <= 0:
            self._send(resp)
            return
        self._submits_open += 1
        call = None

        def answer():
            self._answers.discard(call)
            self._submits_open -= 1
            if not self.closed:
                self._send(resp)

        call = self.clock.callLater(settings.submit_delay, answer)
        self._answers.add(call)

    def _response(self, pdu: Pdu) -> None:
        if pdu.command_id is not CommandId.DELIVER_RESP:
            return  # ACTIVE_TEST_RESP, TERMINATE_RESP: nothing waits for them
        entry = self._in_flight.pop(pdu.sequence, None)
        if entry is None:
            return
        delivery, timer, sent_at = entry
        if timer.active():
            timer.cancel()
        if pdu.body.result == Result.OK:
            self.smsc.ack_times[delivery.kind].append(self.clock.seconds() - sent_at)
            self.smsc.acknowledged(delivery)
        else:
            self.smsc.refused(delivery)

    def _timed_out(self, sequence: int) -> None:
        entry = self._in_flight.pop(sequence, None)
        if entry is not None:
            self.smsc.refused(entry[0], timed_out=True)

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % MAX_SEQUENCE + 1
        return self._sequence


class IsmgProtocol(Protocol):
    """Frames and decodes bytes in the connection's version, hands PDUs to its session."""

    def __init__(self, ismg):
        self.ismg = ismg
        self.session: IsmgSession | None = None
        self._buffer = b""

    def connectionMade(self):
        set_nodelay(self.transport)
        peer = self.transport.getPeer()
        name = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        self.session = IsmgSession(self.ismg, self._write, self.transport.loseConnection, name)

    def dataReceived(self, data: bytes):
        if self.session is None or self.session.closed:
            return
        self._buffer += data
        try:
            frames, self._buffer = split_frames(self._buffer)
        except FramingError as exc:
            log.warn("corrupt CMPP stream from {peer}: {error}", peer=self.session.peer, error=exc)
            self._buffer = b""
            self.session.disconnect()
            return
        for frame in frames:
            if self.session.closed:
                return
            try:
                pdu = decode(frame, self.session.version)
            except PduError as exc:
                self.session.bad_pdu(exc)
                continue
            self.session.pdu_received(pdu)

    def connectionLost(self, reason=None):
        if self.session is not None:
            self.session.connection_lost()

    def _write(self, pdu: Pdu) -> None:
        self.transport.write(encode(pdu, self.session.version))


class IsmgFactory(Factory):
    def __init__(self, ismg):
        self.ismg = ismg

    def buildProtocol(self, addr):
        protocol = IsmgProtocol(self.ismg)
        protocol.factory = self
        return protocol
