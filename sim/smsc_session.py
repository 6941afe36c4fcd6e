"""One ESME connection to the simulated SMS centre: binds, submit_sm, enquire_link, unbind
and deliver_sm toward the ESME. The window of deliveries, the sequence numbers and the
thin Twisted protocol are `sim.center_session`'s, shared with the CMPP simulator; the
session is sans-IO (driven with StringTransport and task.Clock in the tests).
"""
from __future__ import annotations

from twisted.logger import Logger

from gateway.smpp.framing import FramingError, split_frames
from gateway.smpp.pdu import (
    MAX_SEQUENCE,
    BindResp,
    CommandId,
    Empty,
    Pdu,
    PduError,
    SmResp,
    Status,
    decode,
    encode,
    generic_nack,
)
from sim.center_session import CenterFactory, CenterProtocol, CenterSession

log = Logger()

BIND_MODES = {
    CommandId.BIND_TRANSMITTER: "transmitter",
    CommandId.BIND_RECEIVER: "receiver",
    CommandId.BIND_TRANSCEIVER: "transceiver",
}
_RESPONSE_IDS = {int(c) for c in CommandId if c & 0x80000000}
SENDS = ("transmitter", "transceiver")
RECEIVES = ("receiver", "transceiver")


class SmscSession(CenterSession):
    """The SMS centre's side of one SMPP connection."""

    max_sequence = MAX_SEQUENCE

    def receives(self) -> bool:
        return self.mode in RECEIVES

    def delivery_pdu(self, sequence: int, delivery) -> Pdu:
        return Pdu(CommandId.DELIVER_SM, sequence, 0, delivery.body)

    def describe(self) -> dict:
        return {
            "system_id": self.system_id,
            "mode": self.mode,
            "peer": self.peer,
            "in_flight": len(self._in_flight),
        }

    # -- input ---------------------------------------------------------------------------

    def pdu_received(self, pdu: Pdu) -> None:
        if pdu.is_response:
            self._response(pdu)
            return
        cid = pdu.command_id
        if cid in BIND_MODES:
            self._bind(pdu)
        elif cid == CommandId.ENQUIRE_LINK:
            self._send(pdu.response())  # answered in any state: it only checks the link
        elif self.mode is None:
            self._send(pdu.response(Status.ESME_RINVBNDSTS, _error_body(pdu)))
        elif cid == CommandId.SUBMIT_SM:
            self._submit(pdu)
        elif cid == CommandId.UNBIND:
            self._send(pdu.response())
            self.disconnect()
        else:
            self._send(generic_nack(pdu.sequence, Status.ESME_RINVCMDID))

    def bad_pdu(self, error: PduError) -> None:
        """A PDU we could frame but not read: answer its resp with the status, or a nack."""
        cid = error.command_id
        if cid in (CommandId.SUBMIT_SM, CommandId.ENQUIRE_LINK, CommandId.UNBIND) or cid in BIND_MODES:
            request = Pdu(CommandId(cid), error.sequence)
            self._send(request.response(error.status, _error_body(request)))
        elif cid in _RESPONSE_IDS:
            # A resp we cannot read: treat it like an error resp, so the delivery is retried.
            self._response(Pdu(CommandId(cid), error.sequence, Status.ESME_RSYSERR))
        else:
            self._send(generic_nack(error.sequence, error.status))

    # -- handlers --------------------------------------------------------------------------

    def _bind(self, pdu: Pdu) -> None:
        resp_body = BindResp(self.smsc.settings.system_id)
        if self.mode is not None:
            self._send(pdu.response(Status.ESME_RALYBND, resp_body))
            return
        status = self.smsc.check_credentials(pdu.body.system_id, pdu.body.password)
        if status != Status.ESME_ROK:
            log.info("bind refused for {system_id!r} from {peer}: {status}",
                     system_id=pdu.body.system_id, peer=self.peer, status=Status(status).name)
            self._send(pdu.response(status, BindResp(self.smsc.settings.system_id)))
            return
        self.mode = BIND_MODES[pdu.command_id]
        self.system_id = pdu.body.system_id
        self._send(pdu.response(Status.ESME_ROK, resp_body))
        self.smsc.session_bound(self)

    def _submit(self, pdu: Pdu) -> None:
        if self.mode not in SENDS:
            self._send(pdu.response(Status.ESME_RINVBNDSTS, Empty()))
            return
        status, message_id = self.smsc.submit(pdu.body)
        body = SmResp(message_id) if message_id is not None else Empty()
        self._send(pdu.response(status, body))

    def _response(self, pdu: Pdu) -> None:
        if pdu.command_id not in (CommandId.DELIVER_SM_RESP, CommandId.GENERIC_NACK):
            return  # enquire_link_resp, unbind_resp: nothing waits for them
        self.settle(pdu.sequence, pdu.command_id == CommandId.DELIVER_SM_RESP and pdu.status == Status.ESME_ROK)


def _error_body(request: Pdu):
    """The body of an error resp: as SMSCs do, the type's own body only where it has one."""
    if request.command_id in BIND_MODES:
        return BindResp()
    return Empty()  # SMPP 3.4 4.4.2: no submit_sm_resp body when the status is an error


class SmscProtocol(CenterProtocol):
    """Frames and decodes SMPP, hands PDUs to an SmscSession; a broken stream gets a
    generic_nack (invalid command length) before the connection is dropped."""

    session_class = SmscSession
    framing_error = FramingError
    pdu_error = PduError
    name = "SMPP"
    max_length = 64 * 1024

    def split_frames(self, buf: bytes) -> tuple[list[bytes], bytes]:
        return split_frames(buf, self.max_length)

    def decode(self, frame: bytes) -> Pdu:
        return decode(frame)

    def encode(self, pdu: Pdu) -> bytes:
        return encode(pdu)

    def stream_broken(self, error: FramingError) -> None:
        self._write(generic_nack(error.sequence or 0, Status.ESME_RINVCMDLEN))


class SmscFactory(CenterFactory):
    """One SmscProtocol per ESME connection, all sharing one Smsc."""

    protocol = SmscProtocol
