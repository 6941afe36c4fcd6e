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

from twisted.internet.defer import Deferred, fail

from gateway.links.base import LinkBase
from gateway.cmpp import convert
from gateway.cmpp.msgid import msg_id_text
from gateway.cmpp.pdu import Deliver, Result, Version
from gateway.cmpp.protocol import SpProtocol
from gateway.cmpp.session import ConnectRefused, SessionSettings, State
from gateway.messages import OutboundSms
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


class CmppLink(LinkBase):
    bound_state = State.BOUND
    down_word = "connected"

    def __init__(self, name: str, endpoint, settings: CmppLinkSettings,
                 handler: InboundHandler, clock=None,
                 jitter: Callable[[], float] | None = None):
        """`jitter` is backoffPolicy's (random by default; tests pass lambda: 0)."""
        super().__init__(name, endpoint, settings, handler, settings.session_settings(),
                         clock, jitter)
        self._options = settings.submit_options()

    def build_protocol(self, clock) -> SpProtocol:
        return SpProtocol(self, clock, self._session_settings)

    def bound_text(self) -> str:
        return f"link {self.name} connected (CMPP 0x{self.settings.version:02X})"

    def submit(self, msg: OutboundSms) -> Deferred:
        """Fires with the Msg_Id as a decimal string; fails with SubmitRejected or LinkDown."""
        if not self.bound:
            return self._link_down()
        try:
            body = convert.to_submit(msg, self._options)
        except ValueError as e:
            return fail(SubmitRejected(Result.BAD_STRUCTURE, False, f"cannot submit: {e}"))
        return self._submit_to_session(body, msg_id_text)

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
        # Not stored: a non-zero Result (flow control) makes the ISMG deliver it again later.
        self._hand_on(msg, reply, Result.OK, Result.FLOW_CONTROL, "ISMG")
