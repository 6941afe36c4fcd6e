"""A service that calls its `poll` every `poll_interval` seconds on an injected clock
(the dispatcher's and the notifier's timers), first at start-up."""
from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.task import LoopingCall


class PollingService(Service):
    """Subclasses set `_clock` and `_poll_interval` and define `poll`."""

    _clock = None
    _poll_interval: float = 1.0
    _loop: LoopingCall | None = None

    def poll(self) -> None:
        raise NotImplementedError

    def startService(self) -> None:
        super().startService()
        self._loop = LoopingCall(self.poll)
        self._loop.clock = self._clock
        self._loop.start(self._poll_interval, now=True)

    def stopService(self):
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
