"""The load runner behind `merp sim load`: many handsets send commands through the
simulated SMSC to a bound gateway and wait for the replies.

Matching: a handset has at most one command outstanding, so the next complete message
it receives is that command's reply, unless the text says it is something the gateway
sent on its own (an approval request, a decision, a WAP Push: sim.load_mix). N commands
drawn from the mix are spread over the clerks: whenever one is idle and the rate allows,
it sends the next. With teams (sim.load_mix.Layout) each team's manager answers every
approval request it gets with ``Y <number>``, before any new command is drawn; those
approvals count on top of the N. An ORDER reply that says the order awaits approval
makes the runner expect that request at the team's manager: one that does not come
within `timeout` counts as missing.

A command not answered within `timeout` counts as lost; its handset then rests for
another `timeout` (or until the late reply arrives, counted as late) so that a late
reply is not taken for the answer to its next command. A reply arriving while no
command is outstanding and none was lost is counted as unexpected.

Latency is measured from the moment the handset sends the MO (queued at the SMSC) to
the moment the complete (reassembled) reply reaches the handset: what a user waits.
A second figure runs from the gateway's deliver_sm_resp for the MO to the reply, which
leaves out the SMSC queue and the gateway's storing of the MO.
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from itertools import accumulate

from twisted.internet import defer

from sim.load_mix import (
    Layout,
    approval_requested,
    command_kind,
    command_mix,
    is_notice,
    order_waiting,
    parse_mix,
)
from sim.load_report import LoadReport, format_report, percentile, summarize

__all__ = [
    "LoadReport", "LoadRunner", "format_report", "parse_mix", "percentile", "summarize",
    "wait_for_bind",
]


@dataclass
class _Command:
    text: str
    kind: str
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
    requests: int = 0
    requests_missing: int = 0
    notices: int = 0
    kinds: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)
    after_ack: list = field(default_factory=list)

    def count(self, kind: str, what: str) -> None:
        per_kind = self.kinds.setdefault(kind, {"sent": 0, "replied": 0, "lost": 0})
        per_kind[what] += 1


class LoadRunner:
    """Drives one load run against an Smsc in the same process; `run()` -> LoadReport."""

    def __init__(self, smsc, clock, count: int, phones: int, commands, rate: float = 0.0,
                 timeout: float = 30.0, to: str | None = None, first_msisdn: str = "13900000000",
                 seed: int | None = None, team_size: int = 0, service_code: str = "1065712345"):
        if count < 1 or phones < 1:
            raise ValueError("count and phones must be at least 1")
        if rate < 0 or timeout <= 0:
            raise ValueError("rate must be >= 0 and timeout above 0")
        self.layout = Layout(phones, first_msisdn, team_size, to, service_code)
        self.smsc = smsc
        self.clock = clock
        self.count = count
        self.rate = rate
        self.timeout = timeout
        self.commands = command_mix(commands)
        self.rng = random.Random(seed)
        self.msisdns = [self.layout.msisdn(i) for i in range(phones)]
        self._index = {msisdn: i for i, msisdn in enumerate(self.msisdns)}
        self._idle = deque(m for i, m in enumerate(self.msisdns) if not self.layout.is_manager(i))
        self._approvals: dict[str, deque] = {
            m: deque() for i, m in enumerate(self.msisdns) if self.layout.is_manager(i)
        }
        self._ready_managers: deque[str] = deque()  # idle managers with a request to answer
        self._expected: dict[tuple, object] = {}  # (team, order number) -> missing timer
        self._early: set[tuple] = set()  # requests that overtook their ORDER reply
        self._outstanding: dict[str, _Command] = {}
        self._by_mo: dict[str, _Command] = {}
        self._resting: dict[str, object] = {}
        self._tally = _Tally()
        self._drawn = 0  # commands drawn from the mix
        self._started: float | None = None
        self._last_sent: float | None = None
        self._acks_before: dict = {}
        self._next_due = 0.0
        self._pacer = None
        self._pumping = False
        self._mix = None  # (commands, texts, running weight totals), see _mix_table
        self._done: defer.Deferred | None = None

    def run(self) -> defer.Deferred:
        self._done = defer.Deferred()
        self.smsc.phonebook.add_listener(self._on_message)
        self.smsc.mo_listeners.append(self._on_mo_acked)
        self._started = self._next_due = self.clock.seconds()
        self._acks_before = {kind: len(times) for kind, times in self._ack_times().items()}
        self._pump()
        return self._done

    def _ack_times(self) -> dict:
        return getattr(self.smsc, "ack_times", {})

    # -- sending ---------------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self._ready_managers) or (self._drawn < self.count and bool(self._idle))

    def _pump(self) -> None:
        if self._pumping:
            return  # a reply arrived while sending: the loop below sees the idle handset
        self._pumping = True
        try:
            self._pacer = None
            while self._has_work():
                now = self.clock.seconds()
                if self.rate and now < self._next_due:
                    self._pacer = self.clock.callLater(self._next_due - now, self._pump)
                    return
                self._send(*self._take_work(), now)
                if self.rate:
                    self._next_due = max(self._next_due, now - 1.0) + 1.0 / self.rate
        finally:
            self._pumping = False
        self._check_done()

    def _take_work(self) -> tuple[str, str]:
        """(handset, text): a manager's approval first, else the next command of the mix."""
        if self._ready_managers:
            manager = self._ready_managers.popleft()
            return manager, f"Y {self._approvals[manager].popleft()}"
        self._drawn += 1
        return self._idle.popleft(), self._next_text()

    def _send(self, msisdn: str, text: str, now: float) -> None:
        # Registered before queueing: an in-process ESME may answer before queue_mo returns.
        command = _Command(text, command_kind(text), now, "")
        command.timer = self.clock.callLater(self.timeout, self._lost, msisdn)
        self._outstanding[msisdn] = command
        self._tally.sent += 1
        self._tally.count(command.kind, "sent")
        self._last_sent = now
        mo = self.smsc.queue_mo(msisdn, self.layout.recipient(self._index[msisdn]), text)
        command.mo_id = mo.mo_id
        if mo.acked_at is not None:
            command.acked_at = mo.acked_at
        elif self._outstanding.get(msisdn) is command:
            self._by_mo[mo.mo_id] = command

    def _next_text(self) -> str:
        if len(self.commands) == 1:
            return self.commands[0][0]
        texts, cumulative = self._mix_table()
        return self.rng.choices(texts, cum_weights=cumulative)[0]

    def _mix_table(self) -> tuple[list[str], list[float]]:
        """The mix's texts and running weight totals, built once: `choices` draws the same
        with cum_weights as with weights (it sums them itself), without the per-call sum."""
        if self._mix is None or self._mix[0] is not self.commands:
            texts = [text for text, _ in self.commands]
            self._mix = (self.commands, texts, list(accumulate(w for _, w in self.commands)))
        return self._mix[1], self._mix[2]

    # -- hearing back ------------------------------------------------------------------------

    def _on_mo_acked(self, mo) -> None:
        command = self._by_mo.pop(mo.mo_id, None)
        if command is not None and command.acked_at is None:
            command.acked_at = mo.acked_at

    def _on_message(self, handset, message) -> None:
        msisdn = handset.msisdn
        if msisdn not in self._index:
            return
        number = approval_requested(message.text)
        if number is not None:
            self._request_arrived(msisdn, number)
            return
        if is_notice(message.text):
            self._tally.notices += 1
            return
        now = self.clock.seconds()
        command = self._outstanding.pop(msisdn, None)
        if command is not None:
            command.timer.cancel()
            self._by_mo.pop(command.mo_id, None)
            self._tally.replied += 1
            self._tally.count(command.kind, "replied")
            self._tally.latencies.append(now - command.sent_at)
            if command.acked_at is not None:
                self._tally.after_ack.append(now - command.acked_at)
            if command.kind == "ORDER":
                self._order_answered(msisdn, message.text)
            self._release(msisdn)
        elif msisdn in self._resting:
            self._resting.pop(msisdn).cancel()
            self._tally.late += 1
            self._release(msisdn)
        else:
            self._tally.unexpected += 1

    def _request_arrived(self, msisdn: str, number: str) -> None:
        """An approval request: its team's manager queues ``Y <number>``."""
        index = self._index[msisdn]
        if not self.layout.is_manager(index):
            self._tally.notices += 1  # not ours to answer (a manager outside the layout's)
            return
        self._tally.requests += 1
        key = (self.layout.team_of(index), number)
        timer = self._expected.pop(key, None)
        if timer is not None:
            timer.cancel()
        else:
            self._early.add(key)
        self._approvals[msisdn].append(number)
        if self._free(msisdn) and msisdn not in self._ready_managers:
            self._ready_managers.append(msisdn)
            if self._pacer is None:
                self._pump()

    def _order_answered(self, msisdn: str, text: str) -> None:
        """Expect the approval request of an order the reply says is waiting."""
        index = self._index[msisdn]
        number = order_waiting(text)
        if number is None or not self.layout.team_size:
            return
        key = (self.layout.team_of(index), number)
        if key in self._early:
            self._early.discard(key)
        else:
            self._expected[key] = self.clock.callLater(self.timeout, self._request_missing, key)

    def _request_missing(self, key: tuple) -> None:
        del self._expected[key]
        self._tally.requests_missing += 1
        self._check_done()

    def _free(self, msisdn: str) -> bool:
        return msisdn not in self._outstanding and msisdn not in self._resting

    def _lost(self, msisdn: str) -> None:
        command = self._outstanding.pop(msisdn)
        self._by_mo.pop(command.mo_id, None)
        self._tally.lost += 1
        self._tally.count(command.kind, "lost")
        self._resting[msisdn] = self.clock.callLater(self.timeout, self._rested, msisdn)
        self._check_done()

    def _rested(self, msisdn: str) -> None:
        del self._resting[msisdn]
        self._release(msisdn)

    def _release(self, msisdn: str) -> None:
        if msisdn in self._approvals:
            if self._approvals[msisdn]:
                self._ready_managers.append(msisdn)
        else:
            self._idle.append(msisdn)
        if self._pacer is None:
            self._pump()
        else:
            self._check_done()

    # -- finishing -----------------------------------------------------------------------------

    def _check_done(self) -> None:
        if self._done is None or self._done.called:
            return
        if self._drawn < self.count or self._outstanding or self._expected:
            return
        if any(self._approvals.values()):
            return  # requests still to answer (their managers busy or resting)
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
            sending=None if self._last_sent is None else self._last_sent - self._started,
            latency=summarize(tally.latencies),
            latency_after_ack=summarize(tally.after_ack),
            kinds={kind: dict(counts) for kind, counts in tally.kinds.items()},
            ack_latency=summarize([t for kind, times in self._ack_times().items()
                                   for t in times[self._acks_before.get(kind, 0):]]),
            requests=tally.requests,
            requests_missing=tally.requests_missing,
            notices=tally.notices,
        ))


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
