"""Logged-in WAP sessions: opaque random tokens that expire after idle time.

WML browsers often have no cookies, so the token may travel in the URL; it is therefore
random (not derived from the user), short-lived, and paired with a separate CSRF token
that every POST must carry. Sessions live in this process's memory: a restart logs
everyone out, which is acceptable for a phone front end with short sessions.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SESSIONS = 100_000


@dataclass
class WapSession:
    token: str
    enterprise_id: int
    user_id: int
    display_name: str
    csrf: str
    expires_at: float
    data: dict = field(default_factory=dict)


class SessionStore:
    """Token -> WapSession with idle expiry; thread-safe (views run on a pool)."""

    def __init__(self, clock: Callable[[], float], idle_seconds: float):
        self._clock, self._idle = clock, idle_seconds
        self._sessions: dict[str, WapSession] = {}
        self._lock = threading.Lock()

    def create(self, enterprise_id: int, user_id: int, display_name: str) -> WapSession:
        now = self._clock()
        wap = WapSession(secrets.token_urlsafe(18), enterprise_id, user_id, display_name,
                         secrets.token_urlsafe(12), now + self._idle)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._prune(now)
            self._sessions[wap.token] = wap
        return wap

    def get(self, token: str | None) -> WapSession | None:
        """The live session of ``token`` (its idle timer restarted), or None."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            wap = self._sessions.get(token)
            if wap is None:
                return None
            if now >= wap.expires_at:
                del self._sessions[token]
                return None
            wap.expires_at = now + self._idle
            return wap

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def _prune(self, now: float) -> None:
        for token in [t for t, s in self._sessions.items() if now >= s.expires_at]:
            del self._sessions[token]
        while len(self._sessions) >= MAX_SESSIONS:  # still full: drop the oldest
            self._sessions.pop(next(iter(self._sessions)))

    def __len__(self) -> int:
        return len(self._sessions)


def csrf_ok(wap: WapSession | None, given: str | None) -> bool:
    return wap is not None and bool(given) and hmac.compare_digest(wap.csrf, given)


class LoginTokens:
    """CSRF tokens for the login form, before any session exists: signed and expiring,
    so that no state is kept for anonymous visitors."""

    def __init__(self, secret: bytes, clock: Callable[[], float], ttl: float = 3600.0):
        self._secret, self._clock, self._ttl = secret, clock, ttl

    def issue(self) -> str:
        expires = str(int(self._clock() + self._ttl))
        return f"{expires}.{self._sign(expires)}"

    def check(self, token: str | None) -> bool:
        expires, _, sig = (token or "").partition(".")
        if not expires.isdigit() or not hmac.compare_digest(sig, self._sign(expires)):
            return False
        return self._clock() < int(expires)

    def _sign(self, expires: str) -> str:
        return hmac.new(self._secret, b"login:" + expires.encode(), hashlib.sha256).hexdigest()[:20]
