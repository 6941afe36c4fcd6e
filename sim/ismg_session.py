"""One SP connection to the simulated ISMG: CONNECT, the SUBMIT window, DELIVERs toward the
SP within their own window (redelivered when not acknowledged), ACTIVE_TEST, TERMINATE,
and the thin Twisted protocol around it. The window of deliveries and the protocol's
plumbing are `sim.center_session`'s, shared with the SMPP simulator; sans-IO."""
from __future__ import annotations

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
from sim.center_session import CenterFactory, CenterProtocol, CenterSession

log = Logger()


class IsmgSession(CenterSession):
    """The ISMG's side of one CMPP connection; ``mode`` is "transceiver" once connected
    (as SMPP sessions say)."""

    max_sequence = MAX_SEQUENCE

    def __init__(self, ismg, send, close, peer: str = "?"):
        super().__init__(ismg, send, close, peer)
        self.version = Version.V30
        self._submits_open = 0  # SUBMITs not yet answered (submit_delay)
        self._answers: set = set()

    def delivery_pdu(self, sequence: int, delivery) -> Pdu:
        return Pdu(CommandId.DELIVER, sequence, delivery.body)

    def connection_ending(self) -> None:
        for call in list(self._answers):
            if call.active():
                call.cancel()
        self._answers.clear()

    def describe(self) -> dict:
        return {"system_id": self.system_id, "mode": self.mode, "peer": self.peer,
                "in_flight": len(self._in_flight), "version": hex(self.version)}

    def terminate(self) -> None:
        """Ask the SP to go (TERMINATE); the SP answers and hangs up."""
        if not self.closed:
            self._send(Pdu(CommandId.TERMINATE, self._next_sequence(), Empty()))

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
        self.settle(pdu.sequence, pdu.body.result == Result.OK)


class IsmgProtocol(CenterProtocol):
    """Frames and decodes CMPP in the connection's version, hands PDUs to its session; a
    broken stream is dropped without a word (CMPP has no generic nack)."""

    session_class = IsmgSession
    framing_error = FramingError
    pdu_error = PduError
    name = "CMPP"

    def split_frames(self, buf: bytes) -> tuple[list[bytes], bytes]:
        return split_frames(buf)

    def decode(self, frame: bytes) -> Pdu:
        return decode(frame, self.session.version)

    def encode(self, pdu: Pdu) -> bytes:
        return encode(pdu, self.session.version)


class IsmgFactory(CenterFactory):
    """One IsmgProtocol per SP connection, all sharing one Ismg."""

    protocol = IsmgProtocol
