"""The same row edited on both sides: exactly one conflict is recorded, the table's rule
picks the winner, both sides end with the winner, and the loser is kept in the log."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import pytest_twisted
from sqlalchemy import select, update

from erpcore.items import Item
from sync import example
from sync.conflicts import ConflictError, open_conflicts, resolve
from sync.models import ConflictRecord, MirrorRow
from sync.spec import Rule


def _edit_both(pair, cluster_price="1111.00", enterprise_price="2222.00"):
    with pair.cluster_engine.begin() as conn:
        conn.execute(update(Item).where(Item.sku == "X100").values(unit_price=Decimal(cluster_price)))
    with pair.enterprise_engine.begin() as conn:
        conn.execute(example.goods.update().where(example.goods.c.goods_code == "X100")
                     .values(price=Decimal(enterprise_price)))


def _conflicts(pair):
    with pair.cluster_engine.connect() as conn:
        return conn.execute(select(ConflictRecord)).all()


def _prices(pair):
    return pair.cluster_rows("items")[("X100",)][6], pair.enterprise_rows("items")[("X100",)][6]


@pytest.mark.parametrize("cluster_first", [True, False])
@pytest_twisted.inlineCallbacks
def test_enterprise_wins_whoever_sends_first(pair_factory, cluster_first):
    pair = yield pair_factory(rule=Rule.ENTERPRISE_WINS)
    yield pair.converge()
    _edit_both(pair)
    if cluster_first:
        yield pair.cluster_peer.cycle("full")
    yield pair.converge()
    assert _prices(pair) == ("2222", "2222")
    [record] = _conflicts(pair)
    assert (record.winner, record.state, record.rule) == ("enterprise", "resolved", "enterprise_wins")
    assert Decimal(str(json.loads(record.cluster_data)[6])) == 1111  # the loser, kept
    pair.assert_converged()


@pytest_twisted.inlineCallbacks
def test_cluster_wins_sends_the_cluster_version_back(pair_factory):
    pair = yield pair_factory(rule=Rule.CLUSTER_WINS)
    yield pair.converge()
    _edit_both(pair)
    yield pair.converge()
    assert _prices(pair) == ("1111", "1111")
    [record] = _conflicts(pair)
    assert record.winner == "cluster"
    assert Decimal(str(json.loads(record.enterprise_data)[6])) == 2222
    pair.assert_converged()


@pytest.mark.parametrize("newer, price", [("cluster", "1111"), ("enterprise", "2222")])
@pytest_twisted.inlineCallbacks
def test_newer_wins_takes_the_later_change(pair_factory, newer, price):
    pair = yield pair_factory(rule=Rule.NEWER_WINS)
    yield pair.converge()
    _edit_both(pair)
    pair.cluster.scan("items")
    pair.enterprise.scan("items")
    times = {"cluster": 1_000, "enterprise": 1_000}
    times[newer] = 2_000
    for side, engine in (("cluster", pair.cluster_engine), ("enterprise", pair.enterprise_engine)):
        with engine.begin() as conn:
            conn.execute(update(MirrorRow).where(MirrorRow.pk == "X100", MirrorRow.flag == "dirty")
                         .values(changed_ms=times[side]))
    yield pair.converge()
    assert _prices(pair) == (price, price)
    [record] = _conflicts(pair)
    assert record.winner == newer


@pytest_twisted.inlineCallbacks
def test_manual_conflicts_wait_for_a_person_then_converge(pair_factory):
    pair = yield pair_factory(rule=Rule.MANUAL)
    yield pair.converge()
    _edit_both(pair)
    yield pair.converge()
    yield pair.converge()
    assert _prices(pair) == ("1111", "2222")  # both kept, nothing overwritten
    [record] = open_conflicts(pair.cluster_engine, "DEMO")
    assert record.winner is None
    resolve(pair.cluster, record.id, "enterprise")
    yield pair.converge()
    assert _prices(pair) == ("2222", "2222")
    assert open_conflicts(pair.cluster_engine, "DEMO") == []
    assert len(_conflicts(pair)) == 1
    with pytest.raises(ConflictError):
        resolve(pair.cluster, record.id, "cluster")
    pair.assert_converged()


@pytest_twisted.inlineCallbacks
def test_a_manual_conflict_settled_for_the_cluster_overrides_the_enterprise(pair_factory):
    pair = yield pair_factory(rule=Rule.MANUAL)
    yield pair.converge()
    _edit_both(pair)
    yield pair.converge()
    [record] = open_conflicts(pair.cluster_engine, "DEMO")
    resolve(pair.cluster, record.id, "cluster")
    yield pair.converge()
    assert _prices(pair) == ("1111", "1111")
