"""The simulated ISMG: the SMSC simulator's state, speaking CMPP to SPs.

An `Ismg` is an `Smsc` (same handsets, delivery queue with redelivery of what the SP does
not acknowledge, outcome mix, receipt delay, rate limit) whose bodies are CMPP: it checks
CONNECT against the configured SP id and shared secret, gives real Msg_Ids (bit layout
of the specification, `gateway.cmpp.msgid`), answers past its window or rate with Result 8
(flow control), and sends status reports as DELIVERs with Registered_Delivery = 1.
Give it the SMSC's `Phonebook` and both simulators serve the same virtual handsets.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from gateway.cmpp.auth import authenticator_source
from gateway.cmpp.msgid import MsgIdParts, msg_id_text, pack_msg_id
from gateway.cmpp.pdu import (
    ConnectStatus,
    Deliver,
    MsgFmt,
    Result,
    StatusReport,
    Submit,
    Version,
)
from gateway.text.coding import decode, encode, split
from gateway.text.udh import UdhError, concat_udh, parse_udh
from sim.handsets import Phonebook
from sim.outcomes import draw_outcome
from sim.smsc import Delivery, MoRecord, Smsc, SmscSettings, push_text

DATA_CODING = {MsgFmt.ASCII: 1, MsgFmt.UCS2: 8, MsgFmt.GBK: 15, MsgFmt.BINARY: 4}


@dataclass
class IsmgSettings(SmscSettings):
    """SmscSettings (receipt_delay, outcomes, throttle_rate, window for DELIVERs, ...) and
    what only an ISMG has."""

    sp_id: str = "901234"
    shared_secret: str = "secret"
    submit_window: int = 16  # SUBMITs unanswered per connection; past it, Result 8
    submit_delay: float = 0.0  # seconds before a SUBMIT_RESP (lets a window fill)
    gateway_id: int = 0x1234  # the 22-bit ISMG code in its Msg_Ids


class MsgIds:
    """Msg_Ids from the clock (local time), the ISMG code and a 16-bit counter."""

    def __init__(self, clock, gateway_id: int, start: int = 0):
        self.clock = clock
        self.gateway_id = gateway_id
        self._sequence = start & 0xFFFF

    def next(self) -> int:
        t = time.localtime(self.clock.seconds())
        self._sequence = (self._sequence + 1) & 0xFFFF
        return pack_msg_id(MsgIdParts(t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                                      self.gateway_id, self._sequence))


def report_time(seconds: float) -> str:
    """YYMMDDHHMM, as Submit_time and Done_time are written."""
    return time.strftime("%y%m%d%H%M", time.localtime(seconds))


class Ismg(Smsc):
    def __init__(self, clock, settings: IsmgSettings | None = None,
                 phonebook: Phonebook | None = None):
        settings = settings or IsmgSettings()
        super().__init__(clock, settings, phonebook)
        self.msg_ids = MsgIds(clock, settings.gateway_id, self.rng.randrange(1 << 16))
        self._smsc_sequence = 0
        self.counters.update(connects_refused=0)

    # -- CONNECT -----------------------------------------------------------------------

    def check_connect(self, source_addr: str, authenticator: bytes, version: int,
                      timestamp: int) -> int:
        """The CONNECT_RESP Status: 0, 2 (unknown SP), 3 (bad authenticator), 4 (version)."""
        if version > 0x3F:
            status = ConnectStatus.VERSION_TOO_HIGH
        elif source_addr != self.settings.sp_id:
            status = ConnectStatus.BAD_SOURCE_ADDR
        else:
            expected = authenticator_source(self.settings.sp_id, self.settings.shared_secret,
                                            f"{timestamp:010d}")
            status = ConnectStatus.OK if authenticator == expected else ConnectStatus.AUTH_FAILED
        if status:
            self.counters["connects_refused"] += 1
        return int(status)

    @staticmethod
    def version_of(requested: int) -> int:
        """The layout a connection speaks: 3.0 for Version 0x30 and up, else 2.0."""
        return Version.V30 if requested >= Version.V30 else Version.V20

    # -- SUBMIT --------------------------------------------------------------------------

    def submit(self, body: Submit) -> tuple[int, int]:
        """(Result, Msg_Id) for one SUBMIT within the window; the session checks the window."""
        self.counters["submits"] += 1
        settings = self.settings
        if settings.throttle or not self.limiter.allow():
            self.counters["submits_throttled"] += 1
            return int(Result.FLOW_CONTROL), 0
        if settings.fail_rate and self.rng.random() < settings.fail_rate:
            self.counters["submits_failed"] += 1
            return int(Result.BAD_SERVICE_ID), 0
        msg_id = self.msg_ids.next()
        self.counters["submits_ok"] += 1
        submitted_at = self.clock.seconds()
        self._to_handsets(body)
        if body.registered_delivery == 1:
            outcome = draw_outcome(self.rng, settings.outcomes)
            self._later(settings.receipt_delay, self._queue_report, body, msg_id, outcome,
                        submitted_at)
        return int(Result.OK), msg_id

    def flow_controlled(self) -> None:
        """A SUBMIT refused past the window (counted like a throttled one)."""
        self.counters["submits"] += 1
        self.counters["submits_throttled"] += 1

    def _to_handsets(self, body: Submit) -> None:
        push = push_text(body.msg_content) if body.tp_udhi and body.msg_fmt == MsgFmt.BINARY else None
        if push is not None:  # a WAP Push SI: the handset shows its text and link
            for dest in body.dest_terminal_ids:
                self.counters["handset_messages"] += 1
                self.phonebook.deliver(dest, body.src_id, push, self.clock.seconds())
            return
        payload, concat = body.msg_content, None
        if body.tp_udhi:
            try:
                concat, payload = parse_udh(payload)
            except UdhError:
                concat = None
        text = decode(payload, DATA_CODING.get(body.msg_fmt, 3))
        for dest in body.dest_terminal_ids:
            whole = self.reassembler.add(f"{body.src_id}>{dest}", concat, text)
            if whole is not None:
                self.counters["handset_messages"] += 1
                self.phonebook.deliver(dest, body.src_id, whole, self.clock.seconds())
        self.reassembler.expire()

    def _queue_report(self, body: Submit, msg_id: int, outcome: str, submitted_at: float) -> None:
        self._smsc_sequence = (self._smsc_sequence + 1) & 0xFFFFFFFF
        dest = body.dest_terminal_ids[0]
        report = StatusReport(msg_id=msg_id, stat=outcome, submit_time=report_time(submitted_at),
                              done_time=report_time(self.clock.seconds()), dest_terminal_id=dest,
                              smsc_sequence=self._smsc_sequence)
        deliver = Deliver(msg_id=self.msg_ids.next(), dest_id=body.src_id, src_terminal_id=dest,
                          service_id=body.service_id, registered_delivery=1, report=report)
        self.counters["receipts_queued"] += 1
        self.ready.append(Delivery("receipt", deliver, msg_id_text(msg_id)))
        self.pump()

    # -- MOs -----------------------------------------------------------------------------

    def queue_mo(self, sender: str, recipient: str | None, text: str) -> MoRecord:
        """Queue a handset's message; ASCII as Msg_Fmt 0, anything else as UCS-2, long
        texts as TP_udhi parts."""
        recipient = recipient or self.settings.service_number
        first_id = self.msg_ids.next()
        mo = MoRecord(msg_id_text(first_id), sender, recipient, text, self.clock.seconds())
        if text.isascii():
            coding, parts = split(text, "gsm7")
            msg_fmt = MsgFmt.ASCII
        else:
            coding, parts = split(text, "ucs2")
            msg_fmt = MsgFmt.UCS2
        mo.parts_left = len(parts)
        ref = self._next_ref() if len(parts) > 1 else 0
        for number, part in enumerate(parts, start=1):
            payload = part.encode("ascii") if msg_fmt == MsgFmt.ASCII else encode(part, coding)
            udhi = 0
            if len(parts) > 1:
                payload = concat_udh(ref, len(parts), number) + payload
                udhi = 1
            part_id = first_id if number == 1 else self.msg_ids.next()
            body = Deliver(msg_id=part_id, dest_id=recipient, src_terminal_id=sender,
                           msg_content=payload, tp_udhi=udhi, msg_fmt=msg_fmt)
            self.ready.append(Delivery("mo", body, msg_id_text(part_id), mo=mo))
        self.mos[mo.mo_id] = mo
        self.counters["mos_queued"] += 1
        self.pump()
        return mo
