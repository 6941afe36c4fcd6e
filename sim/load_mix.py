"""What the load runner sends and how it reads what comes back: the weighted command mix,
the kind of a command, the team layout of the handsets, and the messages a handset gets
that are not the reply to its own command (approval requests, decisions, WAP Pushes).

Teams (``team_size`` T > 0): handset i belongs to team i // T, its own enterprise reached
at the service code + "9" + the team number in four digits (erpcore.demo seeds the same
layout with ``merp db seed-demo --load-phones N --load-team-size T``). The team's first
handset is its manager: it sends nothing from the mix, it answers each approval request
it gets with ``Y <number>``. The others (clerks) draw from the mix. So an order waits for
exactly one approver and nobody is asked to approve their own order.

A handset tells messages apart by their text, as a person would: the texts matched here
are those of commands/notices.py and commands/order.py (tests pin them to the real ones).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

APPROVE = "APPROVE"
TEAM_PREFIX = "9"
MAX_TEAMS = 10_000
_NUMBER = r"([0-9A-Za-z-]+)"
#: An approval request to a manager: "To approve: order 1001 by ..." / "待审批: 订单1001 ...".
APPROVAL_REQUEST = re.compile(rf"^(?:To approve: order |待审批: 订单){_NUMBER}[ ,]")
#: An ORDER reply saying the order waits for approval, with its number.
ORDER_WAITING = re.compile(rf"^(?:Order {_NUMBER}: .*awaiting .*approval|订单{_NUMBER}已提交.*待.*审批)")
#: What a requester is told when an approver decided.
DECISION = re.compile(rf"^(?:Your order {_NUMBER} was (?:approved|rejected) by|您的订单{_NUMBER}(?:已由|被))")
WAP_PUSH = "[WAP Push]"
#: Words that name APPROVE (commands/approve.py: APPROVE, TY, 同意, Y).
_APPROVE_WORDS = frozenset({"APPROVE", "TY", "同意", "Y"})


def command_kind(text: str) -> str:
    """The command a text names, as the report counts it: its first word in upper case,
    APPROVE for every word of the approval command."""
    words = text.split()
    word = words[0].upper() if words else ""
    return APPROVE if word in _APPROVE_WORDS else word


def approval_requested(text: str) -> str | None:
    """The order number an approval request asks about, else None."""
    match = APPROVAL_REQUEST.match(text)
    return match.group(1) if match else None


def order_waiting(text: str) -> str | None:
    """The number of the order an ORDER reply says awaits approval, else None."""
    match = ORDER_WAITING.match(text)
    return (match.group(1) or match.group(2)) if match else None


def is_notice(text: str) -> bool:
    """A message the gateway sends on its own (not a reply): a request, a decision, a push."""
    return bool(APPROVAL_REQUEST.match(text) or DECISION.match(text) or text.startswith(WAP_PUSH))


@dataclass(frozen=True)
class Layout:
    """Which handset is which: numbers from ``first_msisdn``, in teams of ``team_size``
    (0: no teams, everyone is a clerk sending to ``to``)."""

    phones: int
    first_msisdn: str = "13900000000"
    team_size: int = 0
    to: str | None = None  # the recipient without teams (None: the centre's default)
    service_code: str = "1065712345"  # with teams: + the team's extension

    def __post_init__(self):
        if self.phones < 1 or self.team_size < 0:
            raise ValueError("phones must be at least 1 and team_size at least 0")
        if self.team_size == 1:
            raise ValueError("a team of one is only a manager: use a team size of 0 or at least 2")
        if self.team_size and self.phones < 2:
            raise ValueError("one handset in a team is its manager: nobody would send the mix")
        if self.team_size and self.teams > MAX_TEAMS:
            raise ValueError(f"{self.teams} teams: at most {MAX_TEAMS} (raise the team size)")

    @property
    def teams(self) -> int:
        return -(-self.phones // self.team_size) if self.team_size else 1

    def msisdn(self, index: int) -> str:
        return str(int(self.first_msisdn) + index)

    def team_of(self, index: int) -> int:
        return index // self.team_size if self.team_size else 0

    def is_manager(self, index: int) -> bool:
        return bool(self.team_size) and index % self.team_size == 0

    def recipient(self, index: int) -> str | None:
        if not self.team_size:
            return self.to
        return f"{self.service_code}{team_extension(self.team_of(index))}"


def team_extension(team: int) -> str:
    """The extension of load team ``team`` (erpcore.demo.load_team_extension agrees)."""
    return f"{TEAM_PREFIX}{team:04d}"


def command_mix(commands) -> list[tuple[str, float]]:
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
    if any(command_kind(t) == APPROVE for t, _ in pairs):
        raise ValueError("APPROVE is not drawn from the mix: managers send it when an order asks "
                         "(use teams, --team-size)")
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
    return command_mix(pairs)
