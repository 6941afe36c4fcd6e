"""Request signing between the cluster and an enterprise agent: HMAC-SHA256 with the
enterprise's secret over timestamp, nonce, path and body. A request outside the replay
window, or whose nonce was seen inside it, is refused.

The nonce memory is in process memory: after a restart, a request captured in the last
window could be replayed once; the receiver's batch memory still makes that change nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import time

TIMESTAMP_HEADER = b"X-Merp-Timestamp"
NONCE_HEADER = b"X-Merp-Nonce"
SIGNATURE_HEADER = b"X-Merp-Signature"
DEFAULT_WINDOW = 300.0


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
    """Checks signatures and remembers nonces for the replay window."""

    def __init__(self, secret: bytes, clock=time, window: float = DEFAULT_WINDOW):
        self.secret = secret
        self.clock = clock
        self.window = window
        self._seen: dict[str, float] = {}

    def verify(self, headers, path: bytes, body: bytes) -> None:
        """Raise SignatureError unless the request is authentic, fresh and new."""
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
        now = self.clock.time() if hasattr(self.clock, "time") else self.clock.seconds()
        if abs(now - stamp) > self.window:
            raise SignatureError("timestamp outside the replay window")
        self._forget(now)
        if nonce in self._seen:
            raise SignatureError("replayed request")
        self._seen[nonce] = stamp

    def _forget(self, now: float) -> None:
        if len(self._seen) > 1000:
            self._seen = {n: t for n, t in self._seen.items() if now - t <= self.window}


def _header(headers, name: bytes) -> str:
    value = headers.get(name) if isinstance(headers, dict) else headers.getRawHeaders(name, [None])[0]
    if value is None:
        return ""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value
