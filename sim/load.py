"""The load runner behind `merp sim load`: many handsets send commands through the
simulated SMSC to a bound gateway and wait for the replies.

Matching: a handset has at most one command outstanding, so the next complete message
it receives is that command's reply. N commands are spread over M handsets: whenever a
handset is idle and the rate allows, it sends the next command. A command not answered
within `timeout` counts as lost; its handset then rests for another `timeout` (or until
the late reply arrives, counted as late) so that a late reply is not taken for the
answer to its next command. A reply arriving while no command is outstanding and none
was lost is counted as unexpected (e.g. an alert the gateway sent on its own).

Latency is measured from the moment the handset sends the MO (queued at the SMSC) to
the moment the complete (reassembled) reply reaches the handset: what a user waits.
A second figure runs from the gateway's deliver_sm_resp for the MO to the reply, which
leaves out the SMSC queue and the gateway's storing of the MO.
"""
from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field

from twisted.internet import defer


@dataclass(frozen=True)
class LoadReport:
    sent: int
    replied: int
    lost: int
    late: int
    unexpected: int
    duration: float  # seconds from the first MO to the last command settled
    throughput: float | None  # replies per second over the run
    latency: dict  # p50/p95/p99/max in seconds, from MO sent to reply
    latency_after_ack: dict  # the same, from the MO's deliver_sm_resp to reply

    def as_json(self) -> dict:
        return dict(self.__dict__)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summarize(values: list[float]) -> dict:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


@dataclass
class _Command:
    text: str
    sent_at: float
    mo_id: str
    acked_at: float | None = None
    timer: object = None


@dataclass
class _Tally:
    sent: int = 0
    replied: int = 0
    lost: int = 0
    late: int = 0
    unexpected: int = 0
    latencies: list = field(default_factory=list)
    after_ack: list = field(default_factory=list)


class LoadRunner:
    """Drives one load run against an Smsc in the same process; `run()` -> LoadReport."""

    def __init__(self, smsc, clock, count: int, phones: int, commands, rate: float = 0.0,
                 timeout: float = 30.0, to: str | None = None, first_msisdn: str = "13900000000",
                 seed: int | None = None):
        if count < 1 or phones < 1:
            raise ValueError("count and phones must be at least 1")
        if rate < 0 or timeout <= 0:
            raise ValueError("rate must be >= 0 and timeout above 0")
        self.smsc = smsc
        self.clock = clock
        self.count = count
        self.rate = rate
        self.timeout = timeout
        self.to = to
        self.commands = _command_mix(commands)
        self.rng = random.Random(seed)
        base = int(first_msisdn)
        self.msisdns = [str(base + i) for i in range(phones)]
        self._ours = set(self.msisdns)
        self._idle = deque(self.msisdns)
        self._outstanding: dict[str, _Command] = {}
        self._by_mo: dict[str, _Command] = {}
        self._resting: dict[str, object] = {}
        self._tally = _Tally()
        self._started: float | None = None
        self._next_due = 0.0
        self._pacer = None
        self._pumping = False
        self._done: defer.Deferred | None = None

    def run(self) -> defer.Deferred:
        self._done = defer.Deferred()
        self.smsc.phonebook.add_listener(self._on_message)
        self.smsc.mo_listeners.append(self._on_mo_acked)
        self._started = self._next_due = self.clock.seconds()
        self._pump()
        return self._done

    # -- sending ---------------------------------------------------------------------------

    def _pump(self) -> None:
        if self._pumping:
            return  # a reply arrived while sending: the loop below sees the idle handset
        self._pumping = True
        try:
            self._pacer = None
            while self._tally.sent < self.count and self._idle:
                now = self.clock.seconds()
                if self.rate and now < self._next_due:
                    self._pacer = self.clock.callLater(self._next_due - now, self._pump)
                    return
                self._send(self._idle.popleft(), now)
                if self.rate:
                    self._next_due = max(self._next_due, now - 1.0) + 1.0 / self.rate
        finally:
            self._pumping = False
        self._check_done()

    def _send(self, msisdn: str, now: float) -> None:
        # Registered before queueing: an in-process ESME may answer before queue_mo returns.
        command = _Command(self._next_text(), now, "")
        command.timer = self.clock.callLater(self.timeout, self._lost, msisdn)
        self._outstanding[msisdn] = command
        self._tally.sent += 1
        mo = self.smsc.queue_mo(msisdn, self.to, command.text)
        command.mo_id = mo.mo_id
        if mo.acked_at is not None:
            command.acked_at = mo.acked_at
        elif self._outstanding.get(msisdn) is command:
            self._by_mo[mo.mo_id] = command

    def _next_text(self) -> str:
        if len(self.commands) == 1:
            return self.commands[0][0]
        texts = [text for text, _ in self.commands]
        return self.rng.choices(texts, weights=[w for _, w in self.commands])[0]

    # -- hearing back ------------------------------------------------------------------------

    def _on_mo_acked(self, mo) -> None:
        command = self._by_mo.pop(mo.mo_id, None)
        if command is not None and command.acked_at is None:
            command.acked_at = mo.acked_at

    def _on_message(self, handset, message) -> None:
        msisdn = handset.msisdn
        if msisdn not in self._ours:
            return
        now = self.clock.seconds()
        command = self._outstanding.pop(msisdn, None)
        if command is not None:
            command.timer.cancel()
            self._by_mo.pop(command.mo_id, None)
            self._tally.replied += 1
            self._tally.latencies.append(now - command.sent_at)
            if command.acked_at is not None:
                self._tally.after_ack.append(now - command.acked_at)
            self._release(msisdn)
        elif msisdn in self._resting:
            self._resting.pop(msisdn).cancel()
            self._tally.late += 1
            self._release(msisdn)
        else:
            self._tally.unexpected += 1

    def _lost(self, msisdn: str) -> None:
        command = self._outstanding.pop(msisdn)
        self._by_mo.pop(command.mo_id, None)
        self._tally.lost += 1
        self._resting[msisdn] = self.clock.callLater(self.timeout, self._rested, msisdn)
        self._check_done()

    def _rested(self, msisdn: str) -> None:
        del self._resting[msisdn]
        self._release(msisdn)

    def _release(self, msisdn: str) -> None:
        self._idle.append(msisdn)
        if self._pacer is None:
            self._pump()
        else:
            self._check_done()

    # -- finishing -----------------------------------------------------------------------------

    def _check_done(self) -> None:
        if self._done is None or self._done.called:
            return
        if self._tally.sent < self.count or self._outstanding:
            return
        self._finish()

    def _finish(self) -> None:
        self.smsc.phonebook.remove_listener(self._on_message)
        if self._on_mo_acked in self.smsc.mo_listeners:
            self.smsc.mo_listeners.remove(self._on_mo_acked)
        for call in list(self._resting.values()):
            call.cancel()
        self._resting.clear()
        tally = self._tally
        duration = self.clock.seconds() - self._started
        throughput = tally.replied / duration if duration > 0 else None
        self._done.callback(LoadReport(
            sent=tally.sent,
            replied=tally.replied,
            lost=tally.lost,
            late=tally.late,
            unexpected=tally.unexpected,
            duration=duration,
            throughput=throughput,
            latency=summarize(tally.latencies),
            latency_after_ack=summarize(tally.after_ack),
        ))


def _command_mix(commands) -> list[tuple[str, float]]:
    """A text, or {text: weight}, or [(text, weight)] -> [(text, weight)], checked."""
    if isinstance(commands, str):
        pairs = [(commands, 1.0)]
    elif isinstance(commands, dict):
        pairs = list(commands.items())
    else:
        pairs = list(commands)
    if not pairs or any(not isinstance(t, str) or not t.strip() for t, _ in pairs):
        raise ValueError("commands must be non-empty texts")
    if any(w < 0 for _, w in pairs) or sum(w for _, w in pairs) <= 0:
        raise ValueError("command weights must be >= 0 with at least one above 0")
    return [(t, float(w)) for t, w in pairs]


def parse_mix(text: str) -> list[tuple[str, float]]:
    """The command-line mix "STOCK X100=3;PENDING=1" (';' between, '=' before a weight)."""
    pairs = []
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        command, sep, weight = item.rpartition("=")
        if sep and command.strip():
            try:
                pairs.append((command.strip(), float(weight)))
                continue
            except ValueError:
                pass
        pairs.append((item, 1.0))
    return _command_mix(pairs)


def wait_for_bind(smsc, clock, timeout: float) -> defer.Deferred:
    """Fires when an ESME that can take MOs is bound; fails with TimeoutError after `timeout`."""
    d = defer.Deferred()

    def bound(session=None):
        if not d.called and any(s.mode in ("receiver", "transceiver") for s in smsc.sessions):
            cleanup()
            d.callback(None)

    def expired():
        if not d.called:
            cleanup()
            d.errback(TimeoutError(f"no gateway bound within {timeout:g} s"))

    def cleanup():
        if bound in smsc.bind_listeners:
            smsc.bind_listeners.remove(bound)
        if timer.active():
            timer.cancel()

    timer = clock.callLater(timeout, expired)
    smsc.bind_listeners.append(bound)
    bound()
    return d


def format_report(report: LoadReport) -> str:
    def ms(value):
        return "n/a" if value is None else f"{value * 1000:.1f}"

    def line(title, stats):
        return (f"{title}: p50 {ms(stats['p50'])}  p95 {ms(stats['p95'])}  "
                f"p99 {ms(stats['p99'])}  max {ms(stats['max'])} ms")

    throughput = "n/a" if report.throughput is None else f"{report.throughput:.1f}"
    lines = [
        f"sent {report.sent}, replied {report.replied}, lost {report.lost} "
        f"(late {report.late}, unexpected {report.unexpected})",
        f"duration {report.duration:.2f} s, throughput {throughput} replies/s",
        line("latency MO sent -> reply", report.latency),
        line("latency MO acked -> reply", report.latency_after_ack),
    ]
    return "\n".join(lines)
