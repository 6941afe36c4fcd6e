"""`ListeningService`: listens on an endpoint while running and says which port it got.

StreamServerEndpointService keeps the port it bound to itself (no public accessor), and
callers need it: the demo and the load runner print it, tests listen on ephemeral
`tcp:0` ports. The gateway's web server, the sync agent and the simulator's listeners all
use this one (it is here because the gateway and the simulator import sync, not the
other way round).
"""
from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer
from twisted.logger import Logger

log = Logger()


class ListeningService(Service):
    """Listens on ``endpoint`` with ``factory`` while running; ``port`` is the
    IListeningPort once bound."""

    def __init__(self, endpoint, factory):
        self.endpoint = endpoint
        self.factory = factory
        self.port = None
        self._listening: defer.Deferred | None = None

    def startService(self):
        super().startService()
        self._listening = self.endpoint.listen(self.factory)
        self._listening.addCallback(self._bound)
        self._listening.addErrback(self._failed)

    def _bound(self, port):
        self.port = port
        return port

    def _failed(self, failure):
        log.failure("cannot listen on {endpoint}", failure, endpoint=self.endpoint)
        return failure

    def when_listening(self) -> defer.Deferred:
        """Fires with the port once bound (at once if it is); a new Deferred each call, so
        a caller's callbacks cannot take the port from the others."""
        if self.port is not None:
            return defer.succeed(self.port)
        d = defer.Deferred()
        self._listening.addCallback(lambda port: (d.callback(port), port)[1])
        self._listening.addErrback(lambda failure: (d.errback(failure), None)[1])
        return d

    def stopService(self):
        super().stopService()
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()
        if self._listening is not None:
            self._listening.cancel()
        return None
