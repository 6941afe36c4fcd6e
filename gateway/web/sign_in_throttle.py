"""The console's sign-in throttle: wrong operator tokens from one client address lock that
address out for a while, so the token cannot be guessed at the speed of the network.

``MAX_FAILURES`` wrong tokens within ``LOCKOUT_SECONDS`` of the first lock the address
for ``LOCKOUT_SECONDS``; while locked, every sign-in from it is refused, the right token
too (an answer that differed would tell a guesser when it guessed right), and attempts
do not count further or extend the lock. A right token before the lock forgets the
address's failures. An IPv6 client is counted by its /64 (one host usually holds a whole
/64). Behind a reverse proxy every operator shares the proxy's address; the console does
not trust X-Forwarded-For, which any client can write.

Memory is bounded: records end once their run of failures and any lock are over (swept
at most once a ``LOCKOUT_SECONDS``, so a failure costs O(1) on average), and at most
``max_addresses`` are kept, the least recently failed dropped first. It is read and
written on the reactor thread only.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60.0
MAX_ADDRESSES = 10_000


@dataclass
class _Failures:
    count: int
    first_at: float  # the first failure of this run; the run ends LOCKOUT_SECONDS later
    locked_until: float = 0.0

    def over(self, now: float, window: float) -> bool:
        return now >= self.locked_until and now >= self.first_at + window


class SignInThrottle:
    """Client address -> its recent wrong tokens and any lock."""

    def __init__(self, clock: Callable[[], float], max_failures: int = MAX_FAILURES,
                 lockout_seconds: float = LOCKOUT_SECONDS, max_addresses: int = MAX_ADDRESSES):
        self._clock, self._max_failures, self._window = clock, max_failures, lockout_seconds
        self._max_addresses = max_addresses
        self._records: dict[str, _Failures] = {}  # oldest failure first
        self._next_sweep = clock() + lockout_seconds

    def locked_for(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 when it may now."""
        record = self._records.get(address)
        return max(0.0, record.locked_until - self._clock()) if record is not None else 0.0

    def failed(self, address: str) -> float:
        """Count a wrong token from ``address``; the seconds it is now locked out for (0:
        not locked)."""
        now = self._clock()
        self._sweep(now)
        record = self._records.pop(address, None)  # re-inserted last: the most recent
        if record is None or record.over(now, self._window):
            record = _Failures(0, now)
        if now >= record.locked_until:
            record.count += 1
            if record.count >= self._max_failures:
                record.locked_until = now + self._window
        self._records[address] = record
        while len(self._records) > self._max_addresses:
            del self._records[next(iter(self._records))]
        return max(0.0, record.locked_until - now)

    def succeeded(self, address: str) -> None:
        """The right token (not while locked): forget the address's failures."""
        self._records.pop(address, None)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._window
        for address in [a for a, r in self._records.items() if r.over(now, self._window)]:
            del self._records[address]

    def __len__(self) -> int:
        return len(self._records)


def client_key(host: str | None) -> str:
    """What the throttle counts by: the IPv4 address, the /64 of an IPv6 one (an
    IPv4-mapped one as IPv4), or the text as it is when it is no IP address."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
