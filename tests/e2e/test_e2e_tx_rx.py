"""Separate TX and RX binds: two links to one SMS centre, a receiver that takes the MOs and
receipts and a transmitter that submits the replies; the answer still reaches the handset."""
from __future__ import annotations

import pytest_twisted
from twisted.internet import defer, reactor

from gateway.config import Config, GatewaySection, LinkSection
from gateway.service import build_gateway
from sim.cli import build_smsc_service, smsc_options
from sim.load import wait_for_bind
from tests.e2e.harness import SERVICE_NUMBER, seed, within


@pytest_twisted.inlineCallbacks
def test_a_receiver_bind_and_a_transmitter_bind_answer_a_handset_together(tmp_path):
    url = f"sqlite:///{tmp_path / 'merp.db'}"
    seed(url)
    simulator = build_smsc_service(smsc_options(listen="tcp:0:interface=127.0.0.1", control=None,
                                                receipt_delay=0.05), reactor)
    simulator.startService()
    yield simulator.when_listening()
    endpoint = f"tcp:host=127.0.0.1:port={simulator.smpp_port()}"
    config = Config(gateway=GatewaySection(database=url), links={
        "rx": LinkSection(endpoint=endpoint, bind_mode="receiver"),
        "tx": LinkSection(endpoint=endpoint, bind_mode="transmitter"),
    })
    gateway = build_gateway(config, reactor)
    smsc = simulator.smsc
    reply = defer.Deferred()
    smsc.phonebook.add_listener(lambda handset, message: reply.called or reply.callback(message.text))
    try:
        gateway.startService()
        yield within(wait_for_bind(smsc, reactor, 10), 15, "the receiver bind")
        receiver, transmitter = gateway.links
        yield within(_bound(transmitter), 15, "the transmitter bind")
        smsc.queue_mo("13800000002", SERVICE_NUMBER, "STOCK X100")
        text = yield within(reply, 15, "the reply")
        binds = sorted(b["mode"] for b in smsc.status()["binds"])
        receiver_capacity = receiver.capacity()
    finally:
        yield gateway.stopService()
        yield simulator.stopService()
    assert "X100" in text and "250" in text
    assert binds == ["receiver", "transmitter"]
    assert receiver_capacity == 0, "a receiver bind is never chosen to submit"


def _bound(link) -> defer.Deferred:
    d = defer.Deferred()

    def ready():
        if link.bound and not d.called:
            d.callback(None)

    link.add_ready_listener(ready)
    ready()
    return d
