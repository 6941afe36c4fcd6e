"""Signed-in operator sessions: a random token in an HttpOnly cookie, ended by signing
out, by idle time, or at the latest a fixed time after signing in (a stolen cookie does
not live for ever). Each session has its own CSRF token that every POST must carry.

Sessions live in this process's memory: a restart signs the operator out.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

MAX_SESSIONS = 1_000


@dataclass
class OperatorSession:
    token: str
    csrf: str
    ends_at: float  # the hard limit
    expires_at: float  # the idle limit, moved on by each request
    flash: str | None = None  # a message for the next page (after a redirect)

    def take_flash(self) -> str | None:
        flash, self.flash = self.flash, None
        return flash


class OperatorSessions:
    """Token -> OperatorSession; thread-safe (pages run on a pool)."""

    def __init__(self, clock: Callable[[], float], idle_seconds: float, max_seconds: float):
        self._clock, self._idle, self._max = clock, idle_seconds, max_seconds
        self._sessions: dict[str, OperatorSession] = {}
        self._lock = threading.Lock()

    def create(self) -> OperatorSession:
        now = self._clock()
        session = OperatorSession(secrets.token_urlsafe(24), secrets.token_urlsafe(18),
                                  now + self._max, min(now + self._idle, now + self._max))
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._prune(now)
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> OperatorSession | None:
        """The live session of ``token`` (its idle timer restarted), or None."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now >= session.expires_at or now >= session.ends_at:
                del self._sessions[token]
                return None
            session.expires_at = min(now + self._idle, session.ends_at)
            return session

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def _prune(self, now: float) -> None:
        for token in [t for t, s in self._sessions.items() if now >= min(s.expires_at, s.ends_at)]:
            del self._sessions[token]
        while len(self._sessions) >= MAX_SESSIONS:  # still full: drop the oldest
            self._sessions.pop(next(iter(self._sessions)))

    def __len__(self) -> int:
        return len(self._sessions)
