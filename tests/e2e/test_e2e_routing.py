"""Per-link routing by service code: a gateway with an SMPP link serving 1065712345 and a
CMPP link serving 10658 answers each handset through the centre its MO came by, and a
service code names the same enterprise extension on either."""
from __future__ import annotations

import dataclasses

import pytest_twisted
from twisted.internet import defer, reactor

from gateway.config import LinkSection
from gateway.service import build_gateway
from tests.e2e.harness import Spine, gateway_config, seed, within


@pytest_twisted.inlineCallbacks
def test_each_reply_leaves_by_the_link_that_serves_its_service_code(db_url):
    seed(db_url)
    spine = Spine(db_url, "cmpp3")  # starts the SMSC and the ISMG, sharing handsets
    spine.simulator.startService()
    yield spine.simulator.when_listening()
    cmpp = gateway_config(db_url, spine.simulator, "cmpp3")
    smpp = gateway_config(db_url, spine.simulator, "smpp")
    config = dataclasses.replace(cmpp, links={
        "cm": dataclasses.replace(cmpp.links["sim"], service_codes="10658"),
        "smsc": dataclasses.replace(smpp.links["sim"], service_codes="1065712345"),
    })
    gateway = build_gateway(config, reactor)
    smsc, ismg = spine.simulator.smsc, spine.simulator.ismg
    replies: dict[str, defer.Deferred] = {"13800000002": defer.Deferred(), "13800000001": defer.Deferred()}

    def on_message(handset, message):
        d = replies.get(handset.msisdn)
        if d is not None and not d.called:
            d.callback(message.text)

    smsc.phonebook.add_listener(on_message)
    try:
        gateway.startService()
        yield within(_all_bound(gateway.links), 15, "both links to bind")
        ismg.queue_mo("13800000002", "1065801", "STOCK X100")  # CMPP number + extension 01
        smsc.queue_mo("13800000001", "106571234501", "STOCK X100")
        by_cmpp = yield within(replies["13800000002"], 15, "the reply over CMPP")
        by_smpp = yield within(replies["13800000001"], 15, "the reply over SMPP")
        counts = (ismg.counters["submits_ok"], smsc.counters["submits_ok"])
    finally:
        yield gateway.stopService()
        yield spine.simulator.stopService()
    assert "X100" in by_cmpp and "250" in by_cmpp, "10658 + 01 is the DEMO enterprise too"
    assert "X100" in by_smpp
    assert counts == (1, 1), "each centre carried exactly the reply to its own MO"


def _all_bound(links) -> defer.Deferred:
    d = defer.Deferred()

    def ready():
        if all(link.bound for link in links) and not d.called:
            d.callback(None)

    for link in links:
        link.add_ready_listener(ready)
    ready()
    return d
