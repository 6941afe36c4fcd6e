"""The whole spine in one reactor: the SMSC simulator (and its ISMG) on ephemeral loopback
ports and the gateway bound to one of them over real TCP, by SMPP, CMPP 2.0 or CMPP 3.0,
on a seeded demo database."""
from __future__ import annotations

import dataclasses

from twisted.internet import defer, reactor

from erpcore import db, demo
from gateway.runner import demo_config
from gateway.service import build_gateway
from sim.cli import build_smsc_service, smsc_options

SERVICE_NUMBER = demo.DEMO_SERVICE_CODE + demo.DEMO_EXTENSION
PROTOCOLS = ("smpp", "cmpp2", "cmpp3")


def seed(url: str, extra=None) -> None:
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            enterprise = demo.seed_demo(session)
            if extra:
                extra(session, enterprise)
    finally:
        engine.dispose()


def within(d: defer.Deferred, seconds: float, what: str) -> defer.Deferred:
    """Bound a wait on a real event so a broken path fails the test instead of hanging."""
    timer = reactor.callLater(seconds, d.cancel)

    def done(result):
        if timer.active():
            timer.cancel()
        return result

    def explain(failure):
        failure.trap(defer.CancelledError)
        raise AssertionError(f"timed out after {seconds}s waiting for {what}")

    return d.addBoth(done).addErrback(explain)


def gateway_config(url: str, simulator, protocol: str):
    """The demo configuration, its link pointed at the SMSC (smpp) or the ISMG (cmpp*)."""
    config = demo_config(url, simulator.smpp_port())
    if protocol == "smpp":
        return config
    link = dataclasses.replace(
        config.links["sim"], protocol=protocol,
        endpoint=f"tcp:host=127.0.0.1:port={simulator.cmpp_port()}",
        sp_id=simulator.ismg.settings.sp_id, shared_secret=simulator.ismg.settings.shared_secret)
    return dataclasses.replace(config, links={"sim": link})


class Spine:
    def __init__(self, url: str, protocol: str = "smpp", **smsc_settings):
        self.url = url
        self.protocol = protocol
        if protocol != "smpp":
            smsc_settings.setdefault("cmpp_listen", "tcp:0:interface=127.0.0.1")
        options = smsc_options(listen="tcp:0:interface=127.0.0.1", control=None, **smsc_settings)
        self.simulator = build_smsc_service(options, reactor)
        # The centre the gateway is connected to; handsets are shared by both.
        self.smsc = self.simulator.smsc if protocol == "smpp" else self.simulator.ismg
        self.gateway = None

    @defer.inlineCallbacks
    def start(self, **config_changes):
        """Start the simulator, then the gateway bound to it; ``config_changes`` replace
        sections of the gateway's config (``notify=NotifySection(...)``)."""
        self.simulator.startService()
        yield self.simulator.when_listening()
        config = dataclasses.replace(gateway_config(self.url, self.simulator, self.protocol), **config_changes)
        self.gateway = build_gateway(config, reactor)
        self.gateway.startService()
        yield within(self.bound(), 10, "the gateway to bind")

    def bound(self) -> defer.Deferred:
        link = self.gateway.links[0]
        d = defer.Deferred()
        if link.bound:
            d.callback(link)
            return d

        def ready():
            if link.bound and not d.called:
                d.callback(link)

        link.add_ready_listener(ready)
        return d

    def expect(self, msisdn: str, count: int = 1, seconds: float = 10) -> defer.Deferred:
        """Fires with the texts of the next ``count`` messages to a handset (listen first)."""
        handset = self.smsc.phonebook.get(msisdn)
        got: list[str] = []
        d = defer.Deferred()

        def listener(_handset, message):
            got.append(message.text)
            if len(got) == count and not d.called:
                handset.remove_listener(listener)
                d.callback(got)

        handset.add_listener(listener)
        return within(d, seconds, f"{count} message(s) to {msisdn}")

    def ask(self, msisdn: str, text: str, replies: int = 1, seconds: float = 10) -> defer.Deferred:
        """Send an MO from a handset; fire with the texts of its next `replies` messages."""
        answered = self.expect(msisdn, replies, seconds)
        self.smsc.queue_mo(msisdn, SERVICE_NUMBER, text)
        return answered

    @defer.inlineCallbacks
    def stop(self):
        if self.gateway is not None:
            yield self.gateway.stopService()
        yield self.simulator.stopService()
