"""Wiring: the SMSC's SMPP listener and its control API as one MultiService.

Listeners are endpoint strings (`tcp:2775`, `tcp:0:interface=127.0.0.1`), each a
`sync.listening.ListeningService`, because callers (the demo, the load runner, tests with
ephemeral ports) need the port actually bound.
"""
from __future__ import annotations

from twisted.application.service import MultiService
from twisted.internet import defer, endpoints

from sim.control import ControlApi, control_site
from sim.ismg_session import IsmgFactory
from sim.smsc import Smsc
from sim.smsc_session import SmscFactory
from sync.listening import ListeningService


class SimulatorService(MultiService):
    """An SMSC with its SMPP listener and control API; `smsc` is the live state."""

    def __init__(self, smsc: Smsc, smpp_endpoint, control_endpoint=None, ismg=None,
                 cmpp_endpoint=None):
        super().__init__()
        self.smsc = smsc
        self.smpp = ListeningService(smpp_endpoint, SmscFactory(smsc))
        self.smpp.setServiceParent(self)
        self.ismg = ismg  # the CMPP side (sim.ismg.Ismg), same handsets, when wanted
        self.cmpp = None
        if ismg is not None and cmpp_endpoint is not None:
            self.cmpp = ListeningService(cmpp_endpoint, IsmgFactory(ismg))
            self.cmpp.setServiceParent(self)
        self.api = ControlApi(smsc)
        self.control = None
        if control_endpoint is not None:
            self.control = ListeningService(control_endpoint, control_site(self.api))
            self.control.setServiceParent(self)

    def smpp_port(self) -> int:
        """The SMPP port bound (known once started; TCP binds at once)."""
        return self.smpp.port.getHost().port

    def cmpp_port(self) -> int | None:
        """The CMPP (ISMG) port bound, or None when the ISMG is off."""
        return self.cmpp.port.getHost().port if self.cmpp is not None and self.cmpp.port else None

    def control_url(self) -> str | None:
        if self.control is None or self.control.port is None:
            return None
        host = self.control.port.getHost()
        name = host.host if host.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{name}:{host.port}"

    def when_listening(self) -> defer.Deferred:
        waits = [self.smpp.when_listening()]
        if self.cmpp is not None:
            waits.append(self.cmpp.when_listening())
        if self.control is not None:
            waits.append(self.control.when_listening())
        return defer.gatherResults(waits, consumeErrors=True).addCallback(lambda _: self)

    def stopService(self):
        self.api.close()
        for session in list(self.smsc.sessions):
            session.disconnect()
        self.smsc.stop()
        if self.ismg is not None:
            for session in list(self.ismg.sessions):
                session.disconnect()
            self.ismg.stop()
        return super().stopService()


def build_service(smsc: Smsc, reactor, listen: str, control: str | None, ismg=None,
                  cmpp_listen: str | None = None) -> SimulatorService:
    smpp_endpoint = endpoints.serverFromString(reactor, listen)
    control_endpoint = endpoints.serverFromString(reactor, control) if control else None
    cmpp_endpoint = endpoints.serverFromString(reactor, cmpp_listen) if cmpp_listen else None
    return SimulatorService(smsc, smpp_endpoint, control_endpoint, ismg, cmpp_endpoint)
