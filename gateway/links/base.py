"""`LinkBase`: the protocol-independent half of a link (SMPP's and CMPP's), as the
pipeline sees it: `submit(OutboundSms) -> Deferred`, `capacity()`,
`add_ready_listener(fn)`, `bound`, `name`.

A `ClientService` connects and reconnects with backoff; the bind (CONNECT) happens in its
`prepareConnection`, so a refused bind counts as a failed attempt. An MO or report is
acknowledged only after the handler's Deferred fires (it is stored). Subclasses say how to
build their protocol, convert a submit and answer a deliver.
"""
from __future__ import annotations

import logging
from typing import Callable

from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.protocol import Factory

from gateway.messages import DeliveryReport
from gateway.smpp.session import LinkDown

log = logging.getLogger(__name__)


class LinkBase(Service):
    #: The word in "link X is not ..." when a submit finds the link down.
    down_word = "bound"
    #: The session state in which it takes submits (each protocol has its own State).
    bound_state = None

    def __init__(self, name: str, endpoint, settings, handler, session_settings, clock=None,
                 jitter: Callable[[], float] | None = None):
        """`jitter` is backoffPolicy's (random by default; tests pass lambda: 0)."""
        self.name = name
        self.endpoint = endpoint
        self.settings = settings
        self.handler = handler
        self._session_settings = session_settings
        self._clock = clock
        backoff = {} if jitter is None else {"jitter": jitter}
        self._retry_policy = backoffPolicy(initialDelay=settings.reconnect_initial,
                                           maxDelay=settings.reconnect_max, **backoff)
        self._client: ClientService | None = None
        self._protocol = None
        self._listeners: list[Callable[[], None]] = []

    # --- for subclasses -----------------------------------------------------------------

    def build_protocol(self, clock):
        """A new protocol instance for one connection."""
        raise NotImplementedError

    def bound_text(self) -> str:
        """What the log says once a connection is bound."""
        return f"link {self.name} bound"

    # --- the pipeline's side ------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self._protocol is not None and self._protocol.session.state is self.bound_state

    def capacity(self) -> int:
        return self._protocol.session.capacity() if self.bound else 0

    def add_ready_listener(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def _link_down(self) -> Deferred:
        return fail(LinkDown(f"link {self.name} is not {self.down_word}"))

    def _submit_to_session(self, request, result_text: Callable = lambda r: r) -> Deferred:
        """Hands `request` to the bound session; fires with `result_text(its result)`."""
        d = Deferred()

        def done(result) -> None:
            if isinstance(result, Exception):
                d.errback(result)
            else:
                d.callback(result_text(result))

        self._protocol.session.submit(request, done)
        return d

    # --- service ------------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        clock = self._clock
        if clock is None:
            from twisted.internet import reactor as clock
        factory = Factory.forProtocol(lambda: self.build_protocol(clock))
        self._client = ClientService(self.endpoint, factory, retryPolicy=self._retry_policy,
                                     clock=clock, prepareConnection=self._prepare)
        self._client.startService()

    def stopService(self) -> Deferred:
        super().stopService()
        protocol, client = self._protocol, self._client
        done = protocol.unbind() if protocol is not None else succeed(None)
        if client is None:
            return done
        done.addBoth(lambda _: client.stopService())
        return done

    def _prepare(self, proxy) -> Deferred:
        """Bind on a new connection; the connection counts only once bound."""
        d = proxy.when_bound()

        def bound(protocol) -> None:
            self._protocol = protocol
            log.info("%s", self.bound_text())
            self._tell_ready()

        def failed(failure):
            # ClientService (Twisted 26) has no transition for the connection closing
            # while it waits to retry, and raises from connectionLost. This connection
            # is ours to close, so stop the proxy telling ClientService about it.
            if hasattr(proxy, "_lostNotification"):
                proxy._lostNotification = lambda reason: None
            proxy.unbind()  # hangs up unless already closed (e.g. stop cancelled the bind)
            log.warning("link %s: %s", self.name, failure.getErrorMessage() or failure.type)
            return failure

        d.addCallbacks(bound, failed)
        return d

    # --- LinkEvents (from the protocol) -------------------------------------------------

    def slot_freed(self) -> None:
        self._tell_ready()

    def protocol_lost(self, protocol) -> None:
        if protocol is self._protocol:
            self._protocol = None
            log.warning("link %s lost its connection", self.name)

    def _hand_on(self, msg, reply: Callable[[int], None], ok: int, retry: int,
                 peer: str) -> None:
        """Give a converted MO or report to the handler; `reply(ok)` once it is stored,
        `reply(retry)` (the `peer` delivers it again later) when it is not."""
        if isinstance(msg, DeliveryReport):
            d = maybeDeferred(self.handler.handle_receipt, msg)
        else:
            d = maybeDeferred(self.handler.handle_inbound, msg)

        def stored(_) -> None:
            reply(ok)

        def not_stored(failure) -> None:
            log.warning("link %s: handler failed, %s will redeliver: %s", self.name, peer,
                        failure.getErrorMessage())
            reply(retry)

        d.addCallbacks(stored, not_stored)

    def _tell_ready(self) -> None:
        for fn in list(self._listeners):
            try:
                fn()
            except Exception:
                log.exception("link %s: ready listener failed", self.name)
