"""The simulator's knobs that change per submit: rate throttling, failures, receipt outcomes.

Kept apart from the SMSC so they can be tested with a clock and a seeded random alone.
"""
from __future__ import annotations

import random

# SMPP 3.4 section 5.2.28, message_state values, by the receipt's stat: word.
MESSAGE_STATES = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}


class OutcomeError(ValueError):
    """An outcome mix that cannot be drawn from."""


def check_outcomes(outcomes: dict) -> dict[str, float]:
    """Validate a mix like {"DELIVRD": 0.95, "UNDELIV": 0.05}; weights need not sum to 1."""
    if not isinstance(outcomes, dict) or not outcomes:
        raise OutcomeError("outcomes must be a non-empty object of state -> weight")
    checked: dict[str, float] = {}
    for state, weight in outcomes.items():
        if state not in MESSAGE_STATES:
            raise OutcomeError(f"unknown receipt state {state!r}; use one of {', '.join(MESSAGE_STATES)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise OutcomeError(f"weight of {state} must be a number >= 0, not {weight!r}")
        checked[state] = float(weight)
    if sum(checked.values()) <= 0:
        raise OutcomeError("at least one outcome needs a weight above 0")
    return checked


def parse_outcomes(text: str) -> dict[str, float]:
    """Parse the command-line form "DELIVRD=0.95,UNDELIV=0.05" (or JSON-ish ':' pairs)."""
    mix: dict[str, float] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        state, sep, weight = item.replace(":", "=").partition("=")
        if not sep:
            raise OutcomeError(f"expected STATE=WEIGHT, got {item!r}")
        try:
            mix[state.strip().upper()] = float(weight)
        except ValueError:
            raise OutcomeError(f"weight of {state.strip()} is not a number: {weight!r}") from None
    return check_outcomes(mix)


def draw_outcome(rng: random.Random, outcomes: dict[str, float]) -> str:
    """One state drawn by weight; the same seed gives the same sequence."""
    if len(outcomes) == 1:  # the usual setting: one receipt state, still one draw
        ((state, weight),) = outcomes.items()
        if 0 < weight < float("inf"):  # what choices() would take
            rng.random()  # the draw choices() makes, so later draws stay the same
            return state
    states = list(outcomes)
    return rng.choices(states, weights=[outcomes[s] for s in states])[0]


class RateLimiter:
    """A token bucket: `rate` submits a second on average, bursts of up to one second's worth.

    rate None means unlimited. Time comes from an injected clock (IReactorTime).
    """

    def __init__(self, clock, rate: float | None):
        self._clock = clock
        self.rate = rate
        self._capacity = max(rate or 0.0, 1.0)
        self._tokens = self._capacity
        self._last = clock.seconds()

    def allow(self) -> bool:
        if self.rate is None:
            return True
        now = self._clock.seconds()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class IdGenerator:
    """Unique message ids as decimal or hexadecimal strings.

    Ids start at a seeded random offset so that two simulator runs do not reuse the same
    ids (a gateway database that survives a simulator restart would see duplicates).
    """

    def __init__(self, style: str = "hex", start: int = 1):
        if style not in ("hex", "dec"):
            raise ValueError(f"id style must be 'hex' or 'dec', not {style!r}")
        self.style = style
        self._next = start

    def next(self) -> str:
        value = self._next
        self._next += 1
        return format(value, "x") if self.style == "hex" else str(value)
