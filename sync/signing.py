"""Request signing between the cluster and an enterprise agent: HMAC-SHA256 with the
enterprise's secret over timestamp, nonce, path and body. A request outside the replay
window, or whose nonce was taken inside it, is refused.

`Verifier.check` is the pure part (signature, timestamp, nonce format); the nonce memory
(`sync.nonces`) is kept in the side's database by the daemons, so a request replayed inside
the window is refused after a restart too.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

from sync.nonces import MemoryNonces

TIMESTAMP_HEADER = b"X-Merp-Timestamp"
NONCE_HEADER = b"X-Merp-Nonce"
SIGNATURE_HEADER = b"X-Merp-Signature"
DEFAULT_WINDOW = 300.0
_NONCE = re.compile(r"[0-9a-f]{16,64}\Z")


class SignatureError(Exception):
    """Why a request was refused (bad signature, stale, replayed)."""


def signature(secret: bytes, timestamp: str, nonce: str, path: bytes, body: bytes) -> str:
    message = b"\n".join([timestamp.encode(), nonce.encode(), path, body])
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(secret: bytes, path: bytes, body: bytes, now: float | None = None) -> dict[bytes, bytes]:
    """The headers that authenticate ``body`` sent to ``path``."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = os.urandom(12).hex()
    return {TIMESTAMP_HEADER: timestamp.encode(), NONCE_HEADER: nonce.encode(),
            SIGNATURE_HEADER: signature(secret, timestamp, nonce, path, body).encode()}


class Verifier:
    """Checks signatures and, through ``nonces``, remembers them for the replay window."""

    def __init__(self, secret: bytes, clock=time, window: float = DEFAULT_WINDOW, nonces=None):
        self.secret = secret
        self.clock = clock
        self.window = window
        self.nonces = nonces if nonces is not None else MemoryNonces()

    def now(self) -> float:
        return self.clock.time() if hasattr(self.clock, "time") else self.clock.seconds()

    def check(self, headers, path: bytes, body: bytes) -> tuple[str, int, float]:
        """(nonce, timestamp, now) of an authentic, fresh request; SignatureError otherwise.
        Whether the nonce is new is `fresh`'s question (it may need the database)."""
        timestamp = _header(headers, TIMESTAMP_HEADER)
        nonce = _header(headers, NONCE_HEADER)
        given = _header(headers, SIGNATURE_HEADER)
        if not (timestamp and nonce and given):
            raise SignatureError("unsigned request")
        try:
            stamp = int(timestamp)
        except ValueError:
            raise SignatureError("bad timestamp") from None
        expected = signature(self.secret, timestamp, nonce, path, body)
        if not hmac.compare_digest(expected, given):
            raise SignatureError("bad signature")
        if not _NONCE.match(nonce):
            raise SignatureError("bad nonce")
        now = self.now()
        if abs(now - stamp) > self.window:
            raise SignatureError("timestamp outside the replay window")
        return nonce, stamp, now

    def fresh(self, nonce: str, stamp: int, now: float) -> bool:
        """Remember the nonce; False for a replay (blocking with stored nonces)."""
        return self.nonces.remember(nonce, stamp, now, self.window)

    def verify(self, headers, path: bytes, body: bytes) -> None:
        """`check` and `fresh` in one call (for nonces kept in memory)."""
        nonce, stamp, now = self.check(headers, path, body)
        if not self.fresh(nonce, stamp, now):
            raise SignatureError("replayed request")


def _header(headers, name: bytes) -> str:
    value = headers.get(name) if isinstance(headers, dict) else headers.getRawHeaders(name, [None])[0]
    if value is None:
        return ""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value
