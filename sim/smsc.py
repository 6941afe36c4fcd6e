"""The simulated SMS centre: what it knows and decides, shared by all its SMPP sessions.

One `Smsc` owns the settings (changeable at run time by the control API), the id
generator, throttling and failure decisions, the virtual handsets, and the queue of
deliver_sm (MOs and delivery receipts) waiting for a bound receiver. Sessions
(`sim.smsc_session`) take deliveries from the queue within their window and hand them
back when the ESME does not acknowledge them, so nothing is lost: an MO or receipt leaves
the queue only on deliver_sm_resp with ESME_ROK.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from gateway.messages import ConcatInfo
from gateway.smpp.pdu import Sm, Status, Tag, Tlv, MERP_MO_ID_TAG
from gateway.web.wap.push import decode_push
from gateway.text.coding import decode, encode, split
from gateway.text.reassembly import Reassembler
from gateway.text.udh import UdhError, concat_udh, parse_udh
from gateway.text.receipts import format_receipt
from sim.handsets import Phonebook
from sim.outcomes import (
    MESSAGE_STATES,
    IdGenerator,
    RateLimiter,
    check_outcomes,
    draw_outcome,
)

ESM_UDHI = 0x40
ESM_DELIVERY_RECEIPT = 0x04
DATA_CODING = {"gsm7": 0, "ucs2": 8}
PUSH_DATA_CODINGS = (0x04, 0xF5)  # 8-bit data, plain or as a GSM data coding scheme
RECEIPT_FINAL_FAILURES = {"UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN"}


@dataclass
class SmscSettings:
    """Everything an operator of the simulator can set; the control API edits a live copy."""

    system_id: str = "merp"
    password: str = "secret"
    receipt_delay: float = 1.0  # seconds from submit to its delivery receipt
    outcomes: dict = field(default_factory=lambda: {"DELIVRD": 1.0})
    throttle_rate: float | None = None  # submits/s above which ESME_RTHROTTLED; None = no limit
    throttle: bool = False  # every submit gets ESME_RTHROTTLED while set
    fail_rate: float = 0.0  # fraction of submits refused with fail_status
    fail_status: int = int(Status.ESME_RSUBMITFAIL)  # permanent: the gateway must not retry
    id_style: str = "hex"  # message ids as "hex" or "dec" strings
    window: int = 10  # deliver_sm in flight toward one ESME session
    response_timeout: float = 30.0  # no deliver_sm_resp by then: take it back, redeliver
    retry_delay: float = 1.0  # wait before redelivering a refused deliver_sm
    service_number: str = "106571234501"  # default recipient of MOs
    seed: int | None = None


@dataclass(eq=False)
class MoRecord:
    """One mobile-originated message, possibly sent as several deliver_sm parts."""

    mo_id: str
    sender: str
    recipient: str
    text: str
    queued_at: float
    parts_left: int = 1
    acked_at: float | None = None


@dataclass(eq=False)
class Delivery:
    """One deliver_sm body waiting for (or in) a session's window."""

    kind: str  # "mo" or "receipt"
    body: Sm
    smsc_id: str  # the MO part's id, or the receipted message id
    mo: MoRecord | None = None
    attempts: int = 0


class Smsc:
    """The state of one simulated SMS centre. Time comes from the injected clock."""

    def __init__(self, clock, settings: SmscSettings | None = None, phonebook: Phonebook | None = None):
        self.clock = clock
        self.settings = settings or SmscSettings()
        self.settings.outcomes = check_outcomes(self.settings.outcomes)
        self.rng = random.Random(self.settings.seed)
        self.phonebook = phonebook if phonebook is not None else Phonebook()
        start = self.rng.randrange(1 << 24, 1 << 28)
        self.ids = IdGenerator(self.settings.id_style, start)
        self.limiter = RateLimiter(clock, self.settings.throttle_rate)
        self.reassembler = Reassembler(clock)
        self.sessions: list = []
        self.ready: deque[Delivery] = deque()
        self.mos: dict[str, MoRecord] = {}
        # Seconds from each deliver_sm to its ESME_ROK resp, per kind ("mo", "receipt"):
        # how long the ESME took to store before acknowledging (the load report's figure).
        self.ack_times: dict[str, list[float]] = {"mo": [], "receipt": []}
        self.mo_listeners: list[Callable[[MoRecord], None]] = []
        self.bind_listeners: list[Callable[[object], None]] = []
        self._udh_ref = self.rng.randrange(256)
        self._delayed: set = set()
        self.counters = dict.fromkeys(
            (
                "submits", "submits_ok", "submits_throttled", "submits_failed",
                "receipts_queued", "receipts_acked", "mos_queued", "mos_acked",
                "deliver_sm_sent", "deliver_sm_refused", "deliver_sm_timeouts",
                "redeliveries", "handset_messages",
            ),
            0,
        )

    # -- settings ----------------------------------------------------------------------

    def update(self, **changes) -> None:
        """Change settings at run time (control API). Raises ValueError on a bad value."""
        for name, value in changes.items():
            if not hasattr(self.settings, name) or name in ("system_id", "password", "seed", "id_style"):
                raise ValueError(f"{name} cannot be changed at run time")
        if "outcomes" in changes:
            changes["outcomes"] = check_outcomes(changes["outcomes"])
        for name in ("fail_rate",):
            if name in changes and not 0 <= changes[name] <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("receipt_delay", "retry_delay", "response_timeout"):
            if name in changes and changes[name] < 0:
                raise ValueError(f"{name} must be >= 0")
        if changes.get("throttle_rate") is not None and changes["throttle_rate"] <= 0:
            raise ValueError("throttle_rate must be above 0 (or null for no limit)")
        if "window" in changes and changes["window"] < 1:
            raise ValueError("window must be at least 1")
        for name, value in changes.items():
            setattr(self.settings, name, value)
        if "throttle_rate" in changes:
            self.limiter = RateLimiter(self.clock, self.settings.throttle_rate)
        self.pump()

    # -- binds -------------------------------------------------------------------------

    def check_credentials(self, system_id: str, password: str) -> Status:
        if system_id != self.settings.system_id:
            return Status.ESME_RINVSYSID
        if password != self.settings.password:
            return Status.ESME_RINVPASWD
        return Status.ESME_ROK

    def session_bound(self, session) -> None:
        if session not in self.sessions:
            self.sessions.append(session)
        for listener in list(self.bind_listeners):
            listener(session)
        self.pump()

    def session_gone(self, session) -> None:
        if session in self.sessions:
            self.sessions.remove(session)

    # -- submits (MT, the gateway's replies) -------------------------------------------

    def submit(self, sm: Sm) -> tuple[int, str | None]:
        """Decide the fate of one submit_sm: (status, message_id or None).

        An accepted message goes to its handset at once (reassembled first when it is a
        part); its receipt follows after receipt_delay when registered_delivery asks.
        """
        self.counters["submits"] += 1
        settings = self.settings
        if settings.throttle or not self.limiter.allow():
            self.counters["submits_throttled"] += 1
            return int(Status.ESME_RTHROTTLED), None
        if settings.fail_rate and self.rng.random() < settings.fail_rate:
            self.counters["submits_failed"] += 1
            return int(settings.fail_status), None
        message_id = self.ids.next()
        self.counters["submits_ok"] += 1
        submitted_at = self.clock.seconds()
        self._to_handset(sm)
        if sm.registered_delivery & 0x03:
            outcome = draw_outcome(self.rng, settings.outcomes)
            wants = sm.registered_delivery & 0x03
            if wants == 1 or (wants == 2 and outcome in RECEIPT_FINAL_FAILURES):
                self._later(settings.receipt_delay, self._queue_receipt, sm, message_id, outcome, submitted_at)
        return int(Status.ESME_ROK), message_id

    def _to_handset(self, sm: Sm) -> None:
        push = _wap_push_of(sm)
        if push is not None:  # a handset shows a Service Indication as its text and link
            self.counters["handset_messages"] += 1
            self.phonebook.deliver(sm.destination_addr, sm.source_addr, push, self.clock.seconds())
            return
        concat, payload = _concat_of(sm)
        text = decode(payload, sm.data_coding)
        key = f"{sm.source_addr}>{sm.destination_addr}"
        whole = self.reassembler.add(key, concat, text)
        self.reassembler.expire()
        if whole is not None:
            self.counters["handset_messages"] += 1
            self.phonebook.deliver(sm.destination_addr, sm.source_addr, whole, self.clock.seconds())

    def _queue_receipt(self, sm: Sm, message_id: str, outcome: str, submitted_at: float) -> None:
        done_at = self.clock.seconds()
        text = format_receipt(
            id=message_id,
            sub=1,
            dlvrd=1 if outcome == "DELIVRD" else 0,
            submit_date=_utc(submitted_at),
            done_date=_utc(done_at),
            stat=outcome,
            err=0 if outcome == "DELIVRD" else 1,
            text=_head(sm),
        )
        body = _deliver_body(
            source_addr=sm.destination_addr,
            destination_addr=sm.source_addr,
            esm_class=ESM_DELIVERY_RECEIPT,
            data_coding=0,
            short_message=text.encode("ascii", "replace"),
            tlvs=(
                Tlv(Tag.RECEIPTED_MESSAGE_ID, message_id.encode("ascii") + b"\x00"),
                Tlv(Tag.MESSAGE_STATE, bytes((MESSAGE_STATES[outcome],))),
            ),
        )
        self.counters["receipts_queued"] += 1
        self.ready.append(Delivery("receipt", body, message_id))
        self.pump()

    # -- MOs ----------------------------------------------------------------------------

    def queue_mo(self, sender: str, recipient: str | None, text: str) -> MoRecord:
        """Queue a message from a virtual handset; long texts go as UDH-concatenated parts."""
        recipient = recipient or self.settings.service_number
        mo = MoRecord(self.ids.next(), sender, recipient, text, self.clock.seconds())
        coding, parts = split(text)
        mo.parts_left = len(parts)
        ref = self._next_ref() if len(parts) > 1 else 0
        for number, part in enumerate(parts, start=1):
            payload = encode(part, coding)
            esm_class = 0
            if len(parts) > 1:
                payload = concat_udh(ref, len(parts), number) + payload
                esm_class = ESM_UDHI
            part_id = mo.mo_id if len(parts) == 1 else f"{mo.mo_id}-{number}"
            body = _deliver_body(
                source_addr=sender,
                destination_addr=recipient,
                esm_class=esm_class,
                data_coding=DATA_CODING[coding],
                short_message=payload,
                tlvs=(Tlv(MERP_MO_ID_TAG, part_id.encode("ascii")),),
            )
            self.ready.append(Delivery("mo", body, part_id, mo=mo))
        self.mos[mo.mo_id] = mo
        self.counters["mos_queued"] += 1
        self.pump()
        return mo

    def _next_ref(self) -> int:
        self._udh_ref = (self._udh_ref + 1) % 256
        return self._udh_ref

    # -- the delivery queue ---------------------------------------------------------------

    def pump(self) -> None:
        """Hand ready deliveries to bound receivers, round robin, within their windows."""
        while self.ready:
            receivers = [s for s in self.sessions if s.can_deliver()]
            if not receivers:
                return
            for session in receivers:
                if not self.ready:
                    return
                delivery = self.ready.popleft()
                delivery.attempts += 1
                self.counters["deliver_sm_sent"] += 1
                session.deliver(delivery)

    def acknowledged(self, delivery: Delivery) -> None:
        """The ESME said ESME_ROK: the delivery is done."""
        if delivery.kind == "receipt":
            self.counters["receipts_acked"] += 1
        elif delivery.mo is not None:
            mo = delivery.mo
            mo.parts_left -= 1
            if mo.parts_left == 0 and mo.acked_at is None:
                mo.acked_at = self.clock.seconds()
                self.counters["mos_acked"] += 1
                self.mos.pop(mo.mo_id, None)
                for listener in list(self.mo_listeners):
                    listener(mo)
        self.pump()

    def refused(self, delivery: Delivery, timed_out: bool = False) -> None:
        """An error resp or no resp in time: redeliver after retry_delay."""
        self.counters["deliver_sm_timeouts" if timed_out else "deliver_sm_refused"] += 1
        self.counters["redeliveries"] += 1
        self._later(self.settings.retry_delay, self._requeue, delivery)
        self.pump()

    def taken_back(self, deliveries: list[Delivery]) -> None:
        """A session went away with these in flight: put them first in line, in order."""
        self.counters["redeliveries"] += len(deliveries)
        self.ready.extendleft(reversed(deliveries))
        self.pump()

    def _requeue(self, delivery: Delivery) -> None:
        self.ready.append(delivery)
        self.pump()

    def _later(self, delay: float, func, *args) -> None:
        call = None

        def run():
            self._delayed.discard(call)
            func(*args)

        call = self.clock.callLater(delay, run)
        self._delayed.add(call)

    def stop(self) -> None:
        """Cancel pending timers (receipts not yet due are dropped; used at shutdown)."""
        for call in list(self._delayed):
            if call.active():
                call.cancel()
        self._delayed.clear()

    # -- reporting ----------------------------------------------------------------------

    def in_flight(self) -> int:
        return sum(s.in_flight_count() for s in self.sessions)

    def status(self) -> dict:
        mos_in_flight = sum(
            1 for s in self.sessions for d in s.in_flight_deliveries() if d.kind == "mo"
        )
        return {
            "binds": [s.describe() for s in self.sessions],
            "counters": dict(self.counters),
            "queued": len(self.ready),
            "in_flight": self.in_flight(),
            "mos_in_flight": mos_in_flight,
            "mos_unacked": len(self.mos),
            "settings": settings_json(self.settings),
        }


def settings_json(settings: SmscSettings) -> dict:
    return {
        "receipt_delay": settings.receipt_delay,
        "outcomes": dict(settings.outcomes),
        "throttle_rate": settings.throttle_rate,
        "throttle": settings.throttle,
        "fail_rate": settings.fail_rate,
        "fail_status": settings.fail_status,
        "window": settings.window,
        "response_timeout": settings.response_timeout,
        "retry_delay": settings.retry_delay,
        "service_number": settings.service_number,
    }


def _concat_of(sm: Sm):
    """(ConcatInfo or None, payload without UDH) from a UDH or from sar_* TLVs."""
    payload = sm.short_message
    if not payload:
        payload = _tlv_value(sm, Tag.MESSAGE_PAYLOAD) or b""
    if sm.esm_class & ESM_UDHI and payload:
        try:
            return parse_udh(payload)
        except UdhError:
            return None, payload
    ref = _tlv_value(sm, Tag.SAR_MSG_REF_NUM)
    total = _tlv_value(sm, Tag.SAR_TOTAL_SEGMENTS)
    number = _tlv_value(sm, Tag.SAR_SEGMENT_SEQNUM)
    if ref and total and number:
        t, n = total[0], number[0]
        if t >= 1 and 1 <= n <= t:
            return ConcatInfo(int.from_bytes(ref, "big"), t, n), payload
    return None, payload


def _wap_push_of(sm: Sm) -> str | None:
    """"[WAP Push] <text> <url>" for an 8-bit message holding an SI for port 2948, else None."""
    if not sm.esm_class & ESM_UDHI or sm.data_coding not in PUSH_DATA_CODINGS:
        return None
    return push_text(sm.short_message or _tlv_value(sm, Tag.MESSAGE_PAYLOAD) or b"")


def push_text(payload: bytes) -> str | None:
    """What a handset shows for a WAP Push SI payload (UDH first), or None if it is none."""
    si = decode_push(payload)
    if si is None:
        return None
    return " ".join(part for part in ("[WAP Push]", si.text, si.href) if part)


def _tlv_value(sm: Sm, tag) -> bytes | None:
    return sm.tlv(tag)


def _utc(seconds: float) -> datetime:
    """The minute a receipt date names (appendix B dates have no seconds), one shared
    datetime per minute: building and formatting one per receipt was a tenth of the load
    runner's CPU."""
    return _minute(int(seconds // 60))


@lru_cache(maxsize=16)
def _minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=timezone.utc)


def _head(sm: Sm) -> str:
    """The first 20 characters of the submitted text, for the receipt's text: field."""
    try:
        _, payload = _concat_of(sm)
        return decode(payload, sm.data_coding)[:20]
    except Exception:  # the receipt must go out even for text we cannot read
        return ""


def _deliver_body(*, source_addr, destination_addr, esm_class, data_coding, short_message, tlvs) -> Sm:
    return Sm(
        service_type="",
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=source_addr,
        dest_addr_ton=0,
        dest_addr_npi=1,
        destination_addr=destination_addr,
        esm_class=esm_class,
        protocol_id=0,
        priority_flag=0,
        schedule_delivery_time="",
        validity_period="",
        registered_delivery=0,
        replace_if_present_flag=0,
        data_coding=data_coding,
        sm_default_msg_id=0,
        short_message=short_message,
        tlvs=tuple(tlvs),
    )
