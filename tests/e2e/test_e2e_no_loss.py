"""Nothing is lost on a crash: the gateway process is SIGKILLed while MOs stream in, is
restarted, and every MO is then answered, and acted on exactly once in the business log."""
from __future__ import annotations

import re

import pytest_twisted
from sqlalchemy import func, select
from twisted.internet import defer, reactor

from erpcore import db
from erpcore.messaging_models import CommandLog, Inbox, Outbox
from sim.load import wait_for_bind
from tests.e2e.gateway_process import GatewayProcess, write_config
from tests.e2e.harness import SERVICE_NUMBER, seed, within
from sim.cli import build_smsc_service, smsc_options

MOS = 300
PHONES = ("13800000001", "13800000002", "13800000003")  # the demo's bound users
KILL_AFTER = 60  # replies seen before the kill
PACE = (10, 0.05)  # MOs queued at the simulator per tick, seconds per tick: 200 MO/s
TOKEN = re.compile(r"Z(\d{4})")


def db_counts(url):
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            scalar = lambda stmt: conn.execute(stmt).scalar_one()  # noqa: E731
            return {
                "inbox": scalar(select(func.count()).select_from(Inbox)),
                "logged": scalar(select(func.count()).select_from(CommandLog)),
                "logged_mos": scalar(select(func.count(func.distinct(CommandLog.inbox_id)))),
                "unsent": scalar(
                    select(func.count()).select_from(Outbox)
                    .where(Outbox.state.in_(("queued", "sending", "failed")))
                ),
            }
    finally:
        engine.dispose()


@pytest_twisted.inlineCallbacks
def test_a_killed_gateway_answers_every_mo_exactly_once_after_restart(db_url, tmp_path):
    seed(db_url)
    simulator = build_smsc_service(
        smsc_options(listen="tcp:0:interface=127.0.0.1", control=None, receipt_delay=0.05),
        reactor,
    )
    simulator.startService()
    yield simulator.when_listening()
    smsc = simulator.smsc
    config = write_config(tmp_path / "merp.ini", db_url, simulator.smpp_port())

    answered: dict[int, int] = {}
    enough = defer.Deferred()
    everything = defer.Deferred()

    def on_reply(handset, message):
        match = TOKEN.search(message.text)
        if not match:
            return
        n = int(match.group(1))
        answered[n] = answered.get(n, 0) + 1
        if len(answered) >= KILL_AFTER and not enough.called:
            enough.callback(None)
        if len(answered) == MOS + 10 and not everything.called:
            everything.callback(None)

    smsc.phonebook.add_listener(on_reply)
    gateway = GatewayProcess(config)
    try:
        gateway.start()
        yield within(wait_for_bind(smsc, reactor, 30), 35, "the gateway to bind")
        feeding = _feed(smsc)
        yield within(enough, 60, f"{KILL_AFTER} replies before the kill")
        for n in range(MOS, MOS + 10):  # a burst on the wire at the moment of the kill
            smsc.queue_mo(PHONES[n % len(PHONES)], SERVICE_NUMBER, f"STOCK Z{n:04d}")
        unacked = smsc.status()["mos_unacked"]  # on the wire or waiting for a window slot
        yield gateway.kill()
        assert len(answered) < MOS, "the kill must land mid-stream to prove anything"
        assert unacked > 0, "MOs were unacknowledged at the SMSC when the gateway died"

        gateway.start()
        yield feeding
        yield within(everything, 120, f"all {MOS + 10} MOs answered after the restart\n{gateway.log}")
        # Let the restarted gateway settle what it submitted (receipts, sent marks).
        yield within(_until(lambda: db_counts(db_url)["unsent"] == 0), 30, "an empty outbox")
    finally:
        yield gateway.stop()
        yield simulator.stopService()

    counts = db_counts(db_url)
    assert sorted(answered) == list(range(MOS + 10))
    assert counts["inbox"] == MOS + 10, "every MO stored once (redeliveries deduplicated)"
    assert counts["logged"] == counts["logged_mos"] == MOS + 10, "every MO acted on exactly once"
    assert counts["unsent"] == 0


def _feed(smsc) -> defer.Deferred:
    """Queue the MOs at a steady pace, so the kill finds some stored, some on the wire and
    some not yet sent. Each asks for an unknown item whose reply quotes it: a reply names
    its MO."""
    done = defer.Deferred()
    per_tick, tick = PACE
    numbers = iter(range(MOS))

    def more():
        for n in numbers:
            smsc.queue_mo(PHONES[n % len(PHONES)], SERVICE_NUMBER, f"STOCK Z{n:04d}")
            if n % per_tick == per_tick - 1:
                reactor.callLater(tick, more)
                return
        done.callback(None)

    more()
    return done


def _until(predicate, interval=0.2) -> defer.Deferred:
    """Fire when predicate() holds, looking on the reactor (the other side is a process)."""
    d = defer.Deferred()

    def look():
        if d.called:
            return
        if predicate():
            d.callback(None)
        else:
            reactor.callLater(interval, look)

    look()
    return d
