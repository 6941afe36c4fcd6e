"""In-memory reassembly of concatenated messages, for the handsets in the simulator.

The gateway itself reassembles durably in the inbox store (INTERNALS.md); this one only
has to survive parts arriving out of order or twice, and forget parts whose siblings
never come.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gateway.messages import ConcatInfo

DEFAULT_TIMEOUT = 300.0  # seconds; SMS centres give up on missing parts in minutes


@dataclass
class _Pending:
    started: float
    parts: dict[int, str] = field(default_factory=dict)


class Reassembler:
    """Collects parts keyed by (sender, reference, total) until the last one arrives.

    clock is anything with .seconds() (an IReactorTime such as task.Clock); it is only
    read, never scheduled on, so the owner decides when to call expire().
    """

    def __init__(self, clock, timeout: float = DEFAULT_TIMEOUT):
        self._clock = clock
        self.timeout = timeout
        self._pending: dict[tuple[str, int, int], _Pending] = {}

    def __len__(self) -> int:
        """Messages still waiting for parts."""
        return len(self._pending)

    def add(self, sender: str, concat: ConcatInfo | None, text: str) -> str | None:
        """Add one part; the whole text once every part is in, else None.

        A part without concatenation info (or of a 1-part message) is whole already.
        A second copy of a part is ignored: the first copy wins.
        """
        if concat is None or concat.total == 1:
            return text
        if not 1 <= concat.number <= concat.total:
            raise ValueError(f"part number {concat.number} is outside 1..{concat.total}")
        key = (sender, concat.reference, concat.total)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(started=self._clock.seconds())
        pending.parts.setdefault(concat.number, text)
        if len(pending.parts) < concat.total:
            return None
        del self._pending[key]
        return "".join(pending.parts[number] for number in range(1, concat.total + 1))

    def expire(self) -> list[tuple[str, int, int]]:
        """Drop messages whose first part came `timeout` seconds ago or more.

        Returns the dropped keys, (sender, reference, total), for logging.
        """
        # The dict keeps insertion order, which is start order (a message's first part
        # makes its entry): the stale ones are at the head, so stop at the first fresh
        # one instead of reading every pending message on each call (once a submit_sm).
        now = self._clock.seconds()
        stale = []
        for key, pending in self._pending.items():
            if now - pending.started < self.timeout:
                break
            stale.append(key)
        for key in stale:
            del self._pending[key]
        return stale
