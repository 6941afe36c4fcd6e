"""Faults: a connection cut mid-batch, an agent killed mid-batch (as sender and as
receiver), a peer down for a while. Each converges after restart with nothing lost and no
chunk applied twice."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest_twisted
from sqlalchemy import func, insert, select
from twisted.internet import defer

from erpcore.items import Item
from erpcore.notifications import StoredNotification
from erpcore.users import User
from sync import example
from sync.alarms import PEER_DOWN, cluster_sink
from sync.client import PeerError
from sync.http import inline
from sync.models import AppliedChunk


def _new_goods(pair, n=120):
    with pair.enterprise_engine.begin() as conn:
        conn.execute(example.goods.insert(), [
            {"goods_code": f"G{i:04d}", "goods_name": f"商品{i}", "price": Decimal("1.00") + i}
            for i in range(n)])


def _new_items(pair, n=120):
    with pair.cluster_engine.begin() as conn:
        conn.execute(insert(Item), [
            {"enterprise_id": pair.enterprise_id, "sku": f"C{i:04d}", "name": f"项{i}",
             "unit_price": Decimal("2.00") + i, "serialised": False} for i in range(n)])


class Faulty:
    """Wraps a SyncClient: counts data posts per (batch, seq) and can fail one request,
    either before it leaves (``when="before"``) or after the peer handled it (the answer is
    lost on a cut connection)."""

    def __init__(self, client, fail_on=None, when="after"):
        self.client = client
        self.fail_on = fail_on  # (interface, seq) to fail once
        self.when = when
        self.posts = Counter()

    def __getattr__(self, name):
        return getattr(self.client, name)

    def command(self, op, **fields):
        return self.post("command", {"op": op, **fields})

    def data(self, table, batch, seq, rows):
        return self.post("data", {"table": table, "batch": batch, "seq": seq, "rows": rows})

    def result(self, batch, seq):
        return self.post("result", {"batch": batch, "seq": seq})

    @defer.inlineCallbacks
    def post(self, interface, message):
        hit = self.fail_on == (interface, message.get("seq"))
        if hit and self.when == "before":
            self.fail_on = None
            raise PeerError("connection refused")
        answer = yield self.client.post(interface, message)
        if interface == "data":
            self.posts[(message["batch"], message["seq"])] += 1
        if hit:
            self.fail_on = None
            raise PeerError("connection lost")
        return answer


def _chunks(engine):
    with engine.connect() as conn:
        return conn.execute(select(AppliedChunk.batch_id, AppliedChunk.seq)).all()


@pytest_twisted.inlineCallbacks
def test_a_connection_cut_mid_batch_resumes_from_the_last_chunk(pair):
    yield pair.converge()
    _new_goods(pair)
    faulty = pair.agent_peer.client = Faulty(pair.agent_peer.client, fail_on=("data", 1))
    yield pair.agent_peer.cycle("full")
    assert pair.agent_peer.peer_up is False
    assert len(pair.cluster_rows("items")) == 5 + 100  # two chunks of 50 arrived
    assert (yield pair.agent_peer.heartbeat())
    yield pair.converge()
    pair.assert_converged()
    assert len(pair.cluster_rows("items")) == 125
    assert set(faulty.posts.values()) == {1}  # no chunk was sent twice
    assert len(_chunks(pair.cluster_engine)) == len(set(_chunks(pair.cluster_engine)))


@pytest_twisted.inlineCallbacks
def test_a_request_lost_before_arrival_is_sent_again(pair):
    yield pair.converge()
    _new_goods(pair)
    pair.agent_peer.client = Faulty(pair.agent_peer.client, fail_on=("data", 2), when="before")
    yield pair.agent_peer.cycle("full")
    yield pair.agent_peer.heartbeat()
    yield pair.converge()
    pair.assert_converged()
    assert len(pair.cluster_rows("items")) == 125


@pytest_twisted.inlineCallbacks
def test_an_agent_killed_while_sending_resumes_its_batch_after_restart(pair):
    yield pair.converge()
    _new_goods(pair)

    class Killed(Exception):
        pass

    faulty = Faulty(pair.agent_peer.client)

    def die_after_chunk_zero(interface, message, _post=faulty.post):
        if interface == "data" and message["seq"] == 1:
            raise Killed()  # the process dies right here
        return _post(interface, message)
    faulty.post = die_after_chunk_zero
    pair.agent_peer.client = faulty
    try:
        yield pair.agent_peer.cycle("full")
    except Killed:
        pass
    yield pair.kill_agent()
    assert len(pair.enterprise.pending_batches("items")) == 1
    yield pair.start_agent()
    yield pair.converge()
    pair.assert_converged()
    assert len(pair.cluster_rows("items")) == 125
    chunks = _chunks(pair.cluster_engine)
    assert len(chunks) == len(set(chunks))
    assert pair.enterprise.pending_batches("items") == []


@pytest_twisted.inlineCallbacks
def test_an_agent_killed_while_receiving_converges_after_restart(pair):
    yield pair.converge()
    _new_items(pair)
    faulty = pair.cluster_peer.client = Faulty(pair.cluster_peer.client)
    original = faulty.post

    @defer.inlineCallbacks
    def kill_after_chunk_one(interface, message):
        answer = yield original(interface, message)
        if interface == "data" and message["seq"] == 1:
            yield pair.kill_agent()  # gone before it could answer the result request
        return answer
    faulty.post = kill_after_chunk_one
    yield pair.cluster_peer.cycle("full")
    assert pair.cluster_peer.peer_up is False
    assert len(pair.enterprise_rows("items")) == 105
    yield pair.start_agent()
    pair.cluster_peer.client = Faulty(pair.cluster_peer.client)
    assert (yield pair.cluster_peer.heartbeat())
    yield pair.converge()
    pair.assert_converged()
    assert len(pair.enterprise_rows("items")) == 125
    chunks = _chunks(pair.enterprise_engine)
    assert len(chunks) == len(set(chunks)) == 3


@pytest_twisted.inlineCallbacks
def test_peer_down_raises_one_alarm_pauses_then_catches_up_with_an_all_clear(pair):
    yield pair.converge()
    with pair.cluster_engine.begin() as conn:
        conn.execute(insert(User), [{"enterprise_id": pair.enterprise_id, "username": "boss",
                                     "display_name": "老板", "msisdn": "13800000009",
                                     "role": "admin", "lang": "zh"}])
    pair.cluster_peer.alarms.sink = cluster_sink(pair.sessions, pair.enterprise_id, inline)
    yield pair.kill_agent()
    _new_items(pair, 10)
    for _ in range(4):
        yield pair.cluster_peer.heartbeat()
        yield pair.cluster_peer.cycle()
    alarms = pair.cluster_peer.alarms
    assert alarms.counts["raised:" + PEER_DOWN] == 1
    assert PEER_DOWN in alarms.active
    assert pair.cluster_peer.stats["skipped"] == 4  # sync paused while the peer was down
    yield pair.start_agent()
    assert (yield pair.cluster_peer.heartbeat())  # all-clear and catch-up
    assert alarms.counts["cleared:" + PEER_DOWN] == 1 and PEER_DOWN not in alarms.active
    assert len(pair.enterprise_rows("items")) == 15
    with pair.cluster_engine.connect() as conn:
        texts = conn.scalars(select(StoredNotification.text_en).where(
            StoredNotification.msisdn == "13800000009").order_by(StoredNotification.id)).all()
    assert [t.split(":")[0] for t in texts] == ["Sync alarm (peer down)", "Sync all-clear (peer down)"]


@pytest_twisted.inlineCallbacks
def test_growing_lag_raises_an_alarm_and_clears_when_sent(pair):
    from twisted.internet import task

    yield pair.converge()
    _new_items(pair, 3)
    pair.cluster.scan("items")
    clock = task.Clock()
    pair.cluster_peer.clock = clock
    clock.advance(pair.cluster.backlog()[1] / 1000 + 3600)
    pair.cluster_peer.settings.lag_alarm_seconds = 600
    yield pair.cluster_peer._check_lag()
    assert "lag" in pair.cluster_peer.alarms.active
    yield pair.converge()
    assert "lag" not in pair.cluster_peer.alarms.active
    with pair.enterprise_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(example.goods)) == 8
