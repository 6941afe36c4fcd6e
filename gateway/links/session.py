"""`SessionCore`: the timer and rate-limit half both sans-IO sessions (SMPP's `EsmeSession`,
CMPP's `SpSession`) share: sequence numbers, the rate-limited submit pump, keep-alive on
idle, and failing everything outstanding when the connection goes.

No I/O and no Twisted import: timers come from an injected clock with `callLater` and
`seconds` (IReactorTime-like), so tests drive it with `task.Clock`.
"""
from __future__ import annotations

from collections import deque


class TokenBucket:
    """Submits per second on the injected clock; a burst of a tenth of a second's worth."""

    def __init__(self, clock, rate: float):
        self.clock = clock
        self.rate = rate
        self.burst = max(1.0, rate / 10.0)
        self.tokens = self.burst
        self.stamp = clock.seconds()

    def _refill(self) -> None:
        now = self.clock.seconds()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        """0 when a token is there now, else the seconds until one will be."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        if self.rate > 0:
            self.tokens -= 1.0


class SessionCore:
    """Subclasses set the class attributes, keep `_pending` (seq -> item with `command_id`,
    `timer`, `on_done`) and `_queue` (tuples with on_done second), and implement the hooks."""

    #: The protocol's own State members for "takes submits" and "gone".
    bound_state = None
    closed_state = None
    #: The largest sequence number before it wraps to 1.
    max_sequence = 0
    #: The request sent when the peer has been quiet for `keepalive_interval` seconds.
    keepalive_command = None

    def __init__(self, listener, clock, settings):
        self.listener = listener
        self.clock = clock
        self.settings = settings
        self._next_sequence = 1
        self._pending: dict = {}
        self._queue: deque = deque()
        self._in_flight = 0
        self._bucket = TokenBucket(clock, settings.rate)
        self._pump_timer = None
        self._idle_timer = None
        self._last_received = clock.seconds()

    def pdu_received(self, pdu) -> None:
        self._last_received = self.clock.seconds()
        if self.state is self.closed_state:
            return
        if pdu.is_response:
            self._response_received(pdu)
        else:
            self._request_received(pdu)

    # --- hooks --------------------------------------------------------------------------

    @property
    def keepalive_interval(self) -> float:
        """Idle seconds before a keep-alive request; 0 means never."""
        raise NotImplementedError

    def _request(self, command_id, body, *args, **kwargs) -> None:
        raise NotImplementedError

    def _response_received(self, pdu) -> None:
        raise NotImplementedError

    def _request_received(self, pdu) -> None:
        raise NotImplementedError

    def _pump_wait(self) -> float:
        """Seconds before the next submit may go (the rate limit, by default)."""
        return self._bucket.wait_time()

    def _send_queued(self, item: tuple) -> None:
        """Send one queued submit (the window slot is already counted)."""
        raise NotImplementedError

    # --- shared plumbing ----------------------------------------------------------------

    def _sequence(self) -> int:
        seq = self._next_sequence
        self._next_sequence = 1 if seq >= self.max_sequence else seq + 1
        return seq

    def _pump(self) -> None:
        """Send queued submits while the window and the rate allow."""
        while self._queue and self.state is self.bound_state and \
                self._in_flight < self.settings.window:
            wait = self._pump_wait()
            if wait > 0:
                if self._pump_timer is None or not self._pump_timer.active():
                    self._pump_timer = self.clock.callLater(wait, self._pump)
                return
            item = self._queue.popleft()
            self._bucket.take()
            self._in_flight += 1
            self._send_queued(item)

    def _fail_queue(self, error: Exception) -> None:
        queued, self._queue = self._queue, deque()
        for item in queued:
            item[1](error)

    def _fail_outstanding(self, lost_error: Exception, timers) -> None:
        """Stop every timer and fail what is in flight with `lost_error`."""
        for timer in timers:
            self._cancel(timer)
        pending, self._pending = self._pending, {}
        self._in_flight = 0
        for item in pending.values():
            self._cancel(item.timer)
            if item.on_done is not None:
                item.on_done(lost_error)

    def _close_and_disconnect(self) -> None:
        if self.state is self.closed_state:
            return
        self.listener.disconnect()
        self.connection_lost()

    # --- keep-alive ---------------------------------------------------------------------

    def _schedule_idle(self, delay: float) -> None:
        if self.keepalive_interval > 0:
            self._idle_timer = self.clock.callLater(delay, self._idle_check)

    def _idle_check(self) -> None:
        if self.state is not self.bound_state:
            return
        idle = self.clock.seconds() - self._last_received
        interval = self.keepalive_interval
        if idle < interval:
            self._schedule_idle(interval - idle)
            return
        command = self.keepalive_command
        if not any(p.command_id is command for p in self._pending.values()):
            self._request(command, self._keepalive_body())
        self._schedule_idle(interval)

    def _keepalive_body(self):
        raise NotImplementedError

    @staticmethod
    def _cancel(timer) -> None:
        if timer is not None and timer.active():
            timer.cancel()
