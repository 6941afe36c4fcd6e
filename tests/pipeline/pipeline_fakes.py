"""Test doubles for the pipeline: thread pools that run work inline (now or on demand),
a reactor whose callFromThread runs at once, a scriptable SMPP link, a trivial command."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

try:  # the link's own exceptions once gateway.smpp.link exists
    from gateway.smpp.link import LinkDown, SubmitRejected
except ImportError:  # pragma: no cover - until then, the session module holds them
    from gateway.smpp.session import LinkDown, SubmitRejected

__all__ = ["LinkDown", "SubmitRejected"]

START = 1_700_000_000.0  # a realistic epoch second for task.Clock


class InlineReactor:
    """Just enough reactor for deferToThreadPool: results are delivered at once."""

    def callFromThread(self, f, *args, **kwargs):  # noqa: N802 - Twisted's name
        f(*args, **kwargs)


class ImmediatePool:
    """Runs each unit of work at once, on the calling thread."""

    def __init__(self):
        self.calls = 0
        self.fail_next: list[BaseException] = []

    def start(self):
        pass

    def stop(self):
        pass

    def callInThreadWithCallback(self, on_result, f, *args, **kwargs):  # noqa: N802
        self.calls += 1
        try:
            if self.fail_next:
                raise self.fail_next.pop(0)
            result = f(*args, **kwargs)
        except Exception:
            on_result(False, Failure())
        else:
            on_result(True, result)


class ManualPool(ImmediatePool):
    """Keeps each unit of work until the test runs it: an 'in-flight' write."""

    def __init__(self):
        super().__init__()
        self.queue: deque = deque()

    def callInThreadWithCallback(self, on_result, f, *args, **kwargs):  # noqa: N802
        self.queue.append((on_result, f, args, kwargs))

    def run_one(self):
        on_result, f, args, kwargs = self.queue.popleft()
        super().callInThreadWithCallback(on_result, f, *args, **kwargs)

    def run_all(self):
        while self.queue:
            self.run_one()


@dataclass
class Outcome:
    reply: str
    enterprise_id: int | None = None
    user_id: int | None = None
    command: str = "echo"
    ok: bool = True


def echo_handle(session, sms, service_code):
    """A trivial command: answers 'ok <text>'."""
    return Outcome(reply=f"ok {sms.text}")


class FakeLink:
    """An SmppLink stand-in: a window of in-flight submits the test answers by hand."""

    def __init__(self, name="smsc1", window=10, bound=True):
        self.name = name
        self.window = window
        self.bound = bound
        self.in_flight: list[tuple[object, Deferred]] = []
        self.sent: list = []
        self._listeners = []
        self._next_id = 0xA0

    def submit(self, msg) -> Deferred:
        if not self.bound:
            raise AssertionError("submit on an unbound link")
        assert self.capacity() > 0, "submit beyond the window"
        d = Deferred()
        self.sent.append(msg)
        self.in_flight.append((msg, d))
        return d

    def capacity(self) -> int:
        return self.window - len(self.in_flight) if self.bound else 0

    def add_ready_listener(self, fn) -> None:
        self._listeners.append(fn)

    def _take(self):
        msg, d = self.in_flight.pop(0)
        return msg, d

    def _ready(self):
        for fn in list(self._listeners):
            fn()

    def accept(self, smsc_id: str | None = None):
        """Answer the oldest submit with a message id; a slot frees."""
        msg, d = self._take()
        if smsc_id is None:
            smsc_id = format(self._next_id, "X")
            self._next_id += 1
        d.callback(smsc_id)
        self._ready()
        return msg, smsc_id

    def refuse(self, error: Exception):
        msg, d = self._take()
        d.errback(error)
        self._ready()
        return msg

    def accept_all(self):
        return [self.accept() for _ in range(len(self.in_flight))]

    def bind(self):
        self.bound = True
        self._ready()
