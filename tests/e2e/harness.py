"""The whole spine in one reactor: the SMSC simulator on an ephemeral loopback port and
the gateway bound to it over real TCP, on a seeded demo database."""
from __future__ import annotations

from twisted.internet import defer, reactor

from erpcore import db, demo
from gateway.runner import demo_config
from gateway.service import build_gateway
from sim.cli import build_smsc_service, smsc_options

SERVICE_NUMBER = demo.DEMO_SERVICE_CODE + demo.DEMO_EXTENSION


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


class Spine:
    def __init__(self, url: str, **smsc_settings):
        self.url = url
        options = smsc_options(listen="tcp:0:interface=127.0.0.1", control=None, **smsc_settings)
        self.simulator = build_smsc_service(options, reactor)
        self.smsc = self.simulator.smsc
        self.gateway = None

    @defer.inlineCallbacks
    def start(self):
        self.simulator.startService()
        yield self.simulator.when_listening()
        self.gateway = build_gateway(demo_config(self.url, self.simulator.smpp_port()), reactor)
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

    def ask(self, msisdn: str, text: str, replies: int = 1, seconds: float = 10) -> defer.Deferred:
        """Send an MO from a handset; fire with the texts of its next `replies` messages."""
        handset = self.smsc.phonebook.get(msisdn)
        got: list[str] = []
        d = defer.Deferred()

        def listener(_handset, message):
            got.append(message.text)
            if len(got) == replies and not d.called:
                handset.remove_listener(listener)
                d.callback(got)

        handset.add_listener(listener)
        self.smsc.queue_mo(msisdn, SERVICE_NUMBER, text)
        return within(d, seconds, f"{replies} reply(ies) to {text!r} on {msisdn}")

    @defer.inlineCallbacks
    def stop(self):
        if self.gateway is not None:
            yield self.gateway.stopService()
        yield self.simulator.stopService()
