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

from twisted.internet.defer import Deferred, fail

from gateway.links.base import LinkBase
from gateway.messages import DeliveryReport, InboundSms, OutboundSms
from gateway.smpp import convert
from gateway.smpp.pdu import MERP_MO_ID_TAG, Sm, Status
from gateway.smpp.protocol import BindFailed, EsmeProtocol
from gateway.smpp.session import BIND_COMMANDS, LinkDown, SessionSettings, State, SubmitRejected

log = logging.getLogger(__name__)

__all__ = ["BindFailed", "InboundHandler", "LinkDown", "LinkSettings", "SmppLink",
           "SubmitRejected"]


BIND_MODES = tuple(BIND_COMMANDS)


@dataclass(frozen=True)
class LinkSettings:
    system_id: str = "merp"
    password: str = ""
    system_type: str = ""
    bind_mode: str = "transceiver"  # or "transmitter" / "receiver": two links = TX and RX binds
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
        if self.bind_mode not in BIND_MODES:
            raise ValueError(f"bind_mode {self.bind_mode!r}: use one of {', '.join(BIND_MODES)}")
        return SessionSettings(
            system_id=self.system_id, password=self.password, system_type=self.system_type,
            bind_mode=self.bind_mode, window=self.window, rate=self.rate,
            enquire_link_interval=self.enquire_link_interval,
            response_timeout=self.response_timeout)


class InboundHandler(typing.Protocol):
    def handle_inbound(self, msg: InboundSms) -> Deferred: ...  # fires once stored
    def handle_receipt(self, report: DeliveryReport) -> Deferred: ...


class SmppLink(LinkBase):
    bound_state = State.BOUND
    def __init__(self, name: str, endpoint, settings: LinkSettings,
                 handler: InboundHandler, clock=None,
                 jitter: Callable[[], float] | None = None):
        """`jitter` is backoffPolicy's (random by default; tests pass lambda: 0)."""
        super().__init__(name, endpoint, settings, handler, settings.session_settings(),
                         clock, jitter)

    def build_protocol(self, clock) -> EsmeProtocol:
        return EsmeProtocol(self, clock, self._session_settings)

    def submit(self, msg: OutboundSms) -> Deferred:
        """Fires with the SMSC message_id; fails with SubmitRejected or LinkDown."""
        if not self.bound:
            return self._link_down()
        s = self.settings
        try:
            sm = convert.to_submit(msg, s.source_ton, s.source_npi, s.dest_ton, s.dest_npi)
        except ValueError as e:
            return fail(SubmitRejected(Status.ESME_RSUBMITFAIL, False, f"cannot submit: {e}"))
        return self._submit_to_session(sm)

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
        self._hand_on(msg, reply, Status.ESME_ROK, Status.ESME_RX_T_APPN, "SMSC")
