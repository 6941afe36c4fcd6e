"""set_nodelay turns Nagle off on TCP transports and leaves others alone."""
from __future__ import annotations

import socket

import pytest_twisted
from twisted.internet import defer, protocol
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from gateway.net import set_nodelay


@implementer(ITCPTransport)
class _RecordingTcp:
    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def setTcpNoDelay(self, enabled):  # noqa: N802 - Twisted's name
        if self.error:
            raise self.error
        self.calls.append(enabled)


def test_a_tcp_transport_gets_nodelay_enabled():
    transport = _RecordingTcp()
    assert set_nodelay(transport) is True
    assert transport.calls == [True]


def test_a_string_transport_is_silently_left_alone():
    assert set_nodelay(StringTransport()) is False


def test_a_closed_socket_is_not_an_error():
    assert set_nodelay(_RecordingTcp(OSError(9, "Bad file descriptor"))) is False


@pytest_twisted.inlineCallbacks
def test_a_real_loopback_connection_has_tcp_nodelay_set():
    from twisted.internet import reactor

    made = defer.Deferred()

    class Server(protocol.Protocol):
        def connectionMade(self):  # noqa: N802
            set_nodelay(self.transport)
            sock = self.transport.getHandle()
            made.callback(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
    client = yield protocol.ClientCreator(reactor, protocol.Protocol).connectTCP(
        "127.0.0.1", port.getHost().port)
    try:
        assert (yield made) != 0
    finally:
        client.transport.loseConnection()
        yield port.stopListening()
