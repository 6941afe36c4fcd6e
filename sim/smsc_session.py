"""One ESME connection to the simulated SMS centre: bind state, sequence numbers, the
window of deliver_sm toward the ESME, and the thin Twisted protocol around it.

The session does not know about sockets: it is given `send(pdu)` and `close()` and a
clock, so tests drive it with StringTransport and task.Clock (STYLE.md, "sessions are
sans-IO; protocols are thin").
"""
from __future__ import annotations

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from gateway.net import set_nodelay
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

log = Logger()

BIND_MODES = {
    CommandId.BIND_TRANSMITTER: "transmitter",
    CommandId.BIND_RECEIVER: "receiver",
    CommandId.BIND_TRANSCEIVER: "transceiver",
}
_RESPONSE_IDS = {int(c) for c in CommandId if c & 0x80000000}
SENDS = ("transmitter", "transceiver")
RECEIVES = ("receiver", "transceiver")


class SmscSession:
    """The SMS centre's side of one SMPP connection."""

    def __init__(self, smsc, send, close, peer: str = "?"):
        self.smsc = smsc
        self.clock = smsc.clock
        self._send = send
        self._close = close
        self.peer = peer
        self.mode: str | None = None
        self.system_id = ""
        self._sequence = 0
        self._in_flight: dict[int, tuple] = {}  # sequence -> (Delivery, timeout call)
        self.closed = False

    # -- what the SMSC asks of a session -----------------------------------------------

    def can_deliver(self) -> bool:
        return (
            not self.closed
            and self.mode in RECEIVES
            and len(self._in_flight) < self.smsc.settings.window
        )

    def deliver(self, delivery) -> None:
        """Send one deliver_sm and wait (response_timeout) for its resp."""
        sequence = self._next_sequence()
        timer = self.clock.callLater(self.smsc.settings.response_timeout, self._timed_out, sequence)
        self._in_flight[sequence] = (delivery, timer, self.clock.seconds())
        self._send(Pdu(CommandId.DELIVER_SM, sequence, 0, delivery.body))

    def in_flight_count(self) -> int:
        return len(self._in_flight)

    def in_flight_deliveries(self) -> list:
        return [entry[0] for entry in self._in_flight.values()]

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
            self.connection_lost()
            self._close()
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

    def disconnect(self) -> None:
        """Close the connection from our side (shutdown); deliveries in flight go back."""
        self.connection_lost()
        self._close()

    def connection_lost(self) -> None:
        """Give every unacknowledged delivery back to the SMSC, first in line."""
        if self.closed:
            return
        self.closed = True
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
        entry = self._in_flight.pop(pdu.sequence, None)
        if entry is None:
            return  # late (already timed out and taken back) or never sent
        delivery, timer, sent_at = entry
        if timer.active():
            timer.cancel()
        if pdu.command_id == CommandId.DELIVER_SM_RESP and pdu.status == Status.ESME_ROK:
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


def _error_body(request: Pdu):
    """The body of an error resp: as SMSCs do, the type's own body only where it has one."""
    if request.command_id in BIND_MODES:
        return BindResp()
    return Empty()  # SMPP 3.4 4.4.2: no submit_sm_resp body when the status is an error


class SmscProtocol(Protocol):
    """Frames and decodes bytes, hands PDUs to an SmscSession, writes what it sends."""

    max_length = 64 * 1024

    def __init__(self, smsc):
        self.smsc = smsc
        self.session: SmscSession | None = None
        self._buffer = b""

    def connectionMade(self):
        set_nodelay(self.transport)
        peer = self.transport.getPeer()
        name = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        self.session = SmscSession(self.smsc, self._write, self.transport.loseConnection, name)

    def dataReceived(self, data: bytes):
        if self.session is None or self.session.closed:
            return
        self._buffer += data
        try:
            frames, self._buffer = split_frames(self._buffer, self.max_length)
        except FramingError as exc:
            log.warn("corrupt SMPP stream from {peer}: {error}", peer=self.session.peer, error=exc)
            self._write(generic_nack(exc.sequence or 0, Status.ESME_RINVCMDLEN))
            self._buffer = b""
            self.session.connection_lost()
            self.transport.loseConnection()
            return
        for frame in frames:
            if self.session.closed:
                return
            try:
                pdu = decode(frame)
            except PduError as exc:
                self.session.bad_pdu(exc)
                continue
            self.session.pdu_received(pdu)

    def connectionLost(self, reason=None):
        if self.session is not None:
            self.session.connection_lost()

    def _write(self, pdu: Pdu) -> None:
        self.transport.write(encode(pdu))


class SmscFactory(Factory):
    """One SmscProtocol per ESME connection, all sharing one Smsc."""

    def __init__(self, smsc):
        self.smsc = smsc

    def buildProtocol(self, addr):
        protocol = SmscProtocol(self.smsc)
        protocol.factory = self
        return protocol
