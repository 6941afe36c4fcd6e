"""`SmppLink`: one bound connection to an SMS centre, as the pipeline sees it.

A `ClientService` connects and reconnects with backoff; the bind happens in its
`prepareConnection`, so a refused bind counts as a failed attempt. Submits come back as
Deferreds; deliver_sm is answered only after the handler's Deferred fires (stored).
"""
from __future__ import annotations

import logging
import typing
from dataclasses import dataclass
from typing import Callable

from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.protocol import Factory

from gateway.messages import DeliveryReport, InboundSms, OutboundSms
from gateway.smpp import convert
from gateway.smpp.pdu import MERP_MO_ID_TAG, Sm, Status
from gateway.smpp.protocol import BindFailed, EsmeProtocol
from gateway.smpp.session import LinkDown, SessionSettings, State, SubmitRejected

log = logging.getLogger(__name__)

__all__ = ["BindFailed", "InboundHandler", "LinkDown", "LinkSettings", "SmppLink",
           "SubmitRejected"]


@dataclass(frozen=True)
class LinkSettings:
    system_id: str = "merp"
    password: str = ""
    system_type: str = ""
    bind_mode: str = "transceiver"  # "transmitter+receiver" is not built yet
    window: int = 10  # submits in flight at most
    rate: float = 0.0  # submits/s, 0 = no limit
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    reconnect_initial: float = 1.0
    reconnect_max: float = 60.0
    source_ton: int = 0
    source_npi: int = 0
    dest_ton: int = 1
    dest_npi: int = 1
    mo_id_tag: int = MERP_MO_ID_TAG

    def session_settings(self) -> SessionSettings:
        if self.bind_mode != "transceiver":
            raise ValueError(f"bind_mode {self.bind_mode!r} is not supported yet")
        return SessionSettings(
            system_id=self.system_id, password=self.password, system_type=self.system_type,
            bind_mode=self.bind_mode, window=self.window, rate=self.rate,
            enquire_link_interval=self.enquire_link_interval,
            response_timeout=self.response_timeout)


class InboundHandler(typing.Protocol):
    def handle_inbound(self, msg: InboundSms) -> Deferred: ...  # fires once stored
    def handle_receipt(self, report: DeliveryReport) -> Deferred: ...


class SmppLink(Service):
    def __init__(self, name: str, endpoint, settings: LinkSettings,
                 handler: InboundHandler, clock=None,
                 jitter: Callable[[], float] | None = None):
        """`jitter` is backoffPolicy's (random by default; tests pass lambda: 0)."""
        self.name = name
        self.endpoint = endpoint
        self.settings = settings
        self.handler = handler
        self._session_settings = settings.session_settings()
        self._clock = clock
        backoff = {} if jitter is None else {"jitter": jitter}
        self._retry_policy = backoffPolicy(initialDelay=settings.reconnect_initial,
                                           maxDelay=settings.reconnect_max, **backoff)
        self._client: ClientService | None = None
        self._protocol: EsmeProtocol | None = None
        self._listeners: list[Callable[[], None]] = []

    # --- the pipeline's side ------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self._protocol is not None and self._protocol.session.state is State.BOUND

    def capacity(self) -> int:
        return self._protocol.session.capacity() if self.bound else 0

    def add_ready_listener(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def submit(self, msg: OutboundSms) -> Deferred:
        """Fires with the SMSC message_id; fails with SubmitRejected or LinkDown."""
        if not self.bound:
            return fail(LinkDown(f"link {self.name} is not bound"))
        s = self.settings
        try:
            sm = convert.to_submit(msg, s.source_ton, s.source_npi, s.dest_ton, s.dest_npi)
        except ValueError as e:
            return fail(SubmitRejected(Status.ESME_RSUBMITFAIL, False, f"cannot submit: {e}"))
        d = Deferred()

        def done(result) -> None:
            if isinstance(result, Exception):
                d.errback(result)
            else:
                d.callback(result)

        self._protocol.session.submit(sm, done)
        return d

    # --- service ------------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        clock = self._clock
        if clock is None:
            from twisted.internet import reactor as clock
        factory = Factory.forProtocol(
            lambda: EsmeProtocol(self, clock, self._session_settings))
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

        def bound(protocol: EsmeProtocol) -> None:
            self._protocol = protocol
            log.info("link %s bound", self.name)
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

    def protocol_lost(self, protocol: EsmeProtocol) -> None:
        if protocol is self._protocol:
            self._protocol = None
            log.warning("link %s lost its connection", self.name)

    def deliver_received(self, sm: Sm, reply: Callable[[int], None]) -> None:
        """Convert and hand on; ack only once the handler's Deferred has fired."""
        try:
            msg = convert.from_deliver(self.name, sm, self.settings.mo_id_tag)
        except convert.ConvertError as e:
            log.warning("link %s: deliver_sm refused: %s", self.name, e)
            reply(e.status)
            return
        except Exception:
            log.exception("link %s: cannot convert deliver_sm", self.name)
            reply(Status.ESME_RX_T_APPN)
            return
        if isinstance(msg, DeliveryReport):
            d = maybeDeferred(self.handler.handle_receipt, msg)
        else:
            d = maybeDeferred(self.handler.handle_inbound, msg)

        def stored(_) -> None:
            reply(Status.ESME_ROK)

        def not_stored(failure) -> None:
            log.warning("link %s: handler failed, SMSC will redeliver: %s", self.name,
                        failure.getErrorMessage())
            reply(Status.ESME_RX_T_APPN)

        d.addCallbacks(stored, not_stored)

    def _tell_ready(self) -> None:
        for fn in list(self._listeners):
            try:
                fn()
            except Exception:
                log.exception("link %s: ready listener failed", self.name)
