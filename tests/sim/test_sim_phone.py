"""The handset console against a running control API: typed lines become MOs, replies are
printed as they arrive, and a simulator that is not there gets a clear message."""
from __future__ import annotations

import io
import queue
import socket

import pytest
import pytest_twisted
from twisted.internet import defer, threads

from gateway.smpp.pdu import CommandId
from sim.cli import build_smsc_service, smsc_options
from sim.phone import PhoneConsole
from sim.testing import FakeEsme


class Screen:
    """The console's stdout; lets the reactor thread wait for a line to appear."""

    def __init__(self, reactor):
        self.reactor = reactor
        self.text = ""
        self._waiters = []

    def write(self, text):
        self.reactor.callFromThread(self._got, text)

    def flush(self):
        pass

    def _got(self, text):
        self.text += text
        for fragment, d in list(self._waiters):
            if fragment in self.text:
                self._waiters.remove((fragment, d))
                d.callback(self.text)

    def wait_for(self, fragment):
        d = defer.Deferred()
        self._waiters.append((fragment, d))
        self._got("")
        return d.addTimeout(10, self.reactor)


@pytest.fixture
def live():
    from twisted.internet import reactor

    options = smsc_options(listen="tcp:0:interface=127.0.0.1", control="tcp:0:interface=127.0.0.1", seed=2)
    service = build_smsc_service(options, reactor)
    service.startService()
    yield service
    pytest_twisted.blockon(defer.maybeDeferred(service.stopService))


@pytest_twisted.inlineCallbacks
def test_typed_lines_are_sent_as_mos_and_replies_are_printed(live):
    from twisted.internet import reactor

    yield live.when_listening()
    esme = FakeEsme(live.smsc)
    esme.bind()
    typed = queue.Queue()
    screen = Screen(reactor)
    console = PhoneConsole("13800000001", live.control_url(), "106571234501", screen, poll_wait=1)
    finished = threads.deferToThread(console.run, iter(typed.get, None))

    yield screen.wait_for("/quit")  # the banner says how to leave
    typed.put("STOCK X100\n")
    yield screen.wait_for(">> sent (id ")
    (mo,) = esme.received()
    assert mo.command_id == CommandId.DELIVER_SM and mo.body.short_message == b"STOCK X100"
    assert mo.body.source_addr == "13800000001" and mo.body.destination_addr == "106571234501"
    esme.ack(mo)
    esme.submit(b"X100: 42 at WH1", to="13800000001", registered_delivery=0)
    yield screen.wait_for("<< 106571234501: X100: 42 at WH1")

    typed.put("/quit\n")
    status = yield finished
    assert status == 0
    assert screen.text.count("X100: 42 at WH1") == 1


def test_a_simulator_that_is_not_running_gets_a_clear_message():
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = io.StringIO()
    console = PhoneConsole("13800000001", f"http://127.0.0.1:{port}", None, out)
    assert console.run(iter(["HELP\n"])) == 2
    assert "no answer from the simulator" in out.getvalue()
    assert "merp sim smsc" in out.getvalue()


@pytest_twisted.inlineCallbacks
def test_piped_input_waits_for_the_replies_before_hanging_up(live):
    """`printf 'STOCK X100\\n' | merp sim phone N` prints the answer, not just 'sent'."""
    from twisted.internet import reactor

    yield live.when_listening()
    esme = FakeEsme(live.smsc)
    esme.bind()
    screen = Screen(reactor)
    console = PhoneConsole("13800000001", live.control_url(), "106571234501", screen,
                           poll_wait=1, linger=10)
    finished = threads.deferToThread(console.run, iter(["STOCK X100\n"]))  # then end of input

    yield screen.wait_for(">> sent (id ")
    assert not finished.called, "the console must wait for the reply after end of input"
    (mo,) = esme.received()
    esme.ack(mo)
    esme.submit(b"X100: 42 at WH1", to="13800000001", registered_delivery=0)
    status = yield finished
    assert status == 0
    assert screen.text.index("<< 106571234501: X100: 42 at WH1") < screen.text.index("bye")
