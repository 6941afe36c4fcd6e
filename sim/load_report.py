"""The load runner's report: counts per command kind, commands answered per second and
latency percentiles (nearest rank), as data and as the text `merp sim load` prints."""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoadReport:
    sent: int
    replied: int
    lost: int
    late: int
    unexpected: int
    duration: float  # seconds from the first MO to the last command settled
    throughput: float | None  # commands answered per second over the run
    latency: dict  # p50/p95/p99/max in seconds, from MO sent to reply
    latency_after_ack: dict  # the same, from the MO's deliver_sm_resp to reply
    kinds: dict = field(default_factory=dict)  # kind -> {"sent", "replied", "lost"}
    requests: int = 0  # approval requests that reached a manager
    requests_missing: int = 0  # orders that awaited approval whose request never came
    notices: int = 0  # other messages the gateway sent on its own (decisions, pushes)
    ack_latency: dict = field(default_factory=dict)  # deliver_sm (MOs, receipts) to its resp
    # Seconds from the first MO to the last one sent: at a steady rate the commands
    # answered a second are the rate offered less the last replies' wait, which the
    # run's duration includes.
    sending: float | None = None

    @property
    def send_rate(self) -> float | None:
        """MOs sent a second while sending (one interval fewer than MOs)."""
        if not self.sending or self.sent < 2:
            return None
        return (self.sent - 1) / self.sending

    @property
    def complete(self) -> bool:
        """Every command answered and every approval request arrived."""
        return self.lost == 0 and self.requests_missing == 0 and self.replied == self.sent

    def as_json(self) -> dict:
        return {**self.__dict__, "send_rate": self.send_rate}


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


def format_report(report: LoadReport) -> str:
    def ms(value):
        return "n/a" if value is None else f"{value * 1000:.1f}"

    def line(title, stats):
        return (f"{title}: p50 {ms(stats['p50'])}  p95 {ms(stats['p95'])}  "
                f"p99 {ms(stats['p99'])}  max {ms(stats['max'])} ms")

    throughput = "n/a" if report.throughput is None else f"{report.throughput:.1f}"
    kinds = ", ".join(
        f"{kind} {c['replied']}/{c['sent']}" + (f" (lost {c['lost']})" if c["lost"] else "")
        for kind, c in sorted(report.kinds.items(), key=lambda kv: -kv[1]["sent"])
    )
    lines = [
        f"sent {report.sent}, replied {report.replied}, lost {report.lost} "
        f"(late {report.late}, unexpected {report.unexpected})",
        f"per kind (replied/sent): {kinds or 'none'}",
    ]
    if report.requests or report.requests_missing:
        lines.append(f"approval requests received {report.requests}, missing {report.requests_missing}; "
                     f"other notices {report.notices}")
    lines += [
        f"duration {report.duration:.2f} s, throughput {throughput} commands answered/s"
        + ("" if report.send_rate is None else f" (MOs sent at {report.send_rate:.1f}/s over {report.sending:.2f} s)"),
        line("latency MO sent -> reply", report.latency),
        line("latency MO acked -> reply", report.latency_after_ack),
    ]
    if report.ack_latency.get("p50") is not None:
        lines.append(line("gateway acknowledging a deliver_sm (MOs and receipts)", report.ack_latency))
    return "\n".join(lines)
