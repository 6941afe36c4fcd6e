"""`CmppLink`: one connection to an ISMG, as the pipeline sees it (the `SmppLink` contract).

`submit(OutboundSms) -> Deferred[msg_id str]`, `capacity()`, `add_ready_listener(fn)`,
`bound`, `name`; errbacks `SubmitRejected(status, transient)` / `LinkDown`. A
`ClientService` connects and reconnects with backoff; CONNECT happens in its
`prepareConnection`, so a refused CONNECT counts as a failed attempt. A DELIVER is
answered only after the handler's Deferred fires (the MO or report is stored).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.protocol import Factory

from gateway.cmpp import convert
from gateway.cmpp.msgid import msg_id_text
from gateway.cmpp.pdu import Deliver, Result, Version
from gateway.cmpp.protocol import SpProtocol
from gateway.cmpp.session import ConnectRefused, SessionSettings, State
from gateway.messages import DeliveryReport, OutboundSms
from gateway.smpp.link import InboundHandler
from gateway.smpp.session import LinkDown, SubmitRejected

log = logging.getLogger(__name__)

__all__ = ["CmppLink", "CmppLinkSettings", "ConnectRefused", "LinkDown", "SubmitRejected"]


@dataclass(frozen=True)
class CmppLinkSettings:
    version: int = Version.V30
    sp_id: str = "901234"
    shared_secret: str = ""
    service_id: str = ""
    src_id: str = ""  # prefix put before a sender that does not start with it
    window: int = 16
    rate: float = 0.0
    active_test_interval: float = 180.0
    response_timeout: float = 60.0
    retries: int = 3
    flow_control_backoff: float = 1.0
    reconnect_initial: float = 1.0
    reconnect_max: float = 60.0

    def session_settings(self) -> SessionSettings:
        return SessionSettings(
            sp_id=self.sp_id, shared_secret=self.shared_secret, version=self.version,
            window=self.window, rate=self.rate, active_test_interval=self.active_test_interval,
            response_timeout=self.response_timeout, retries=self.retries,
            flow_control_backoff=self.flow_control_backoff)

    def submit_options(self) -> convert.SubmitOptions:
        return convert.SubmitOptions(sp_id=self.sp_id, service_id=self.service_id,
                                     src_id_prefix=self.src_id)


class CmppLink(Service):
    def __init__(self, name: str, endpoint, settings: CmppLinkSettings,
                 handler: InboundHandler, clock=None,
                 jitter: Callable[[], float] | None = None):
        """`jitter` is backoffPolicy's (random by default; tests pass lambda: 0)."""
        self.name = name
        self.endpoint = endpoint
        self.settings = settings
        self.handler = handler
        self._session_settings = settings.session_settings()
        self._options = settings.submit_options()
        self._clock = clock
        backoff = {} if jitter is None else {"jitter": jitter}
        self._retry_policy = backoffPolicy(initialDelay=settings.reconnect_initial,
                                           maxDelay=settings.reconnect_max, **backoff)
        self._client: ClientService | None = None
        self._protocol: SpProtocol | None = None
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
        """Fires with the Msg_Id as a decimal string; fails with SubmitRejected or LinkDown."""
        if not self.bound:
            return fail(LinkDown(f"link {self.name} is not connected"))
        try:
            body = convert.to_submit(msg, self._options)
        except ValueError as e:
            return fail(SubmitRejected(Result.BAD_STRUCTURE, False, f"cannot submit: {e}"))
        d = Deferred()

        def done(result) -> None:
            if isinstance(result, Exception):
                d.errback(result)
            else:
                d.callback(msg_id_text(result))

        self._protocol.session.submit(body, done)
        return d

    # --- service ------------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        clock = self._clock
        if clock is None:
            from twisted.internet import reactor as clock
        factory = Factory.forProtocol(lambda: SpProtocol(self, clock, self._session_settings))
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
        """CONNECT on a new connection; the connection counts only once accepted."""
        d = proxy.when_bound()

        def bound(protocol: SpProtocol) -> None:
            self._protocol = protocol
            log.info("link %s connected (CMPP 0x%02X)", self.name, self.settings.version)
            self._tell_ready()

        def failed(failure):
            # As in SmppLink: this connection is ours to close; keep ClientService out of it.
            if hasattr(proxy, "_lostNotification"):
                proxy._lostNotification = lambda reason: None
            proxy.unbind()
            log.warning("link %s: %s", self.name, failure.getErrorMessage() or failure.type)
            return failure

        d.addCallbacks(bound, failed)
        return d

    # --- LinkEvents ---------------------------------------------------------------------

    def slot_freed(self) -> None:
        self._tell_ready()

    def protocol_lost(self, protocol: SpProtocol) -> None:
        if protocol is self._protocol:
            self._protocol = None
            log.warning("link %s lost its connection", self.name)

    def deliver_received(self, deliver: Deliver, reply: Callable[[int], None]) -> None:
        """Convert and hand on; DELIVER_RESP only once the handler's Deferred has fired."""
        try:
            msg = convert.from_deliver(self.name, deliver)
        except convert.ConvertError as e:
            log.warning("link %s: DELIVER refused: %s", self.name, e)
            reply(e.result)
            return
        except Exception:
            log.exception("link %s: cannot convert DELIVER", self.name)
            reply(Result.BAD_STRUCTURE)
            return
        if isinstance(msg, DeliveryReport):
            d = maybeDeferred(self.handler.handle_receipt, msg)
        else:
            d = maybeDeferred(self.handler.handle_inbound, msg)

        def stored(_) -> None:
            reply(Result.OK)

        def not_stored(failure) -> None:
            # Not stored: a non-zero Result makes the ISMG deliver it again later.
            log.warning("link %s: handler failed, ISMG will redeliver: %s", self.name,
                        failure.getErrorMessage())
            reply(Result.FLOW_CONTROL)

        d.addCallbacks(stored, not_stored)

    def _tell_ready(self) -> None:
        for fn in list(self._listeners):
            try:
                fn()
            except Exception:
                log.exception("link %s: ready listener failed", self.name)
