"""A cluster and an agent over signed loopback HTTP: edits on either side arrive on the
other, deletes too, and nothing echoes back."""
from __future__ import annotations

from decimal import Decimal

import pytest_twisted
from sqlalchemy import func, select, update

from erpcore.items import Item
from sync import example
from sync.models import ConflictRecord, MirrorRow


def _count(engine, table):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


@pytest_twisted.inlineCallbacks
def test_identical_copies_converge_without_conflicts(pair):
    yield pair.converge()
    pair.assert_converged()
    assert _count(pair.cluster_engine, ConflictRecord.__table__) == 0
    assert pair.cluster.backlog()[0] == 0 and pair.enterprise.backlog()[0] == 0


@pytest_twisted.inlineCallbacks
def test_an_edit_in_the_enterprise_database_reaches_the_cluster(pair):
    yield pair.converge()
    with pair.enterprise_engine.begin() as conn:
        conn.execute(example.inventory.update().where(
            example.inventory.c.goods_code == "X100", example.inventory.c.store_code == "WH1")
            .values(qty=7))
        conn.execute(example.goods.insert().values(goods_code="Z9", goods_name="新机",
                                                   price=Decimal("10.50")))
    yield pair.converge()
    assert pair.cluster_rows("stock")[("X100", "WH1")][2] == "7"
    assert pair.cluster_rows("items")[("Z9",)][1] == "新机"
    pair.assert_converged()


@pytest_twisted.inlineCallbacks
def test_an_edit_on_the_cluster_reaches_the_enterprise_and_does_not_echo(pair):
    yield pair.converge()
    with pair.cluster_engine.begin() as conn:
        conn.execute(update(Item).where(Item.sku == "N200").values(unit_price=Decimal("279.00")))
    yield pair.converge()
    assert pair.enterprise_rows("items")[("N200",)][6] == "279"
    sent = pair.agent_peer.stats["rows_sent"], pair.cluster_peer.stats["rows_sent"]
    yield pair.converge()
    assert (pair.agent_peer.stats["rows_sent"], pair.cluster_peer.stats["rows_sent"]) == sent


@pytest_twisted.inlineCallbacks
def test_deletes_propagate_both_ways(pair):
    yield pair.converge()
    with pair.enterprise_engine.begin() as conn:
        conn.execute(example.inventory.delete().where(example.inventory.c.goods_code == "EAR1"))
    yield pair.converge()
    assert not [k for k in pair.cluster_rows("stock") if k[0] == "EAR1"]
    with pair.cluster_engine.begin() as conn:
        from erpcore.stock import StockLevel
        x100 = conn.scalar(select(Item.id).where(Item.sku == "X100"))
        conn.execute(StockLevel.__table__.delete().where(StockLevel.item_id == x100))
    yield pair.converge()
    assert not [k for k in pair.enterprise_rows("stock") if k[0] == "X100"]
    pair.assert_converged()
    with pair.enterprise_engine.connect() as conn:
        tombstones = conn.scalar(select(func.count()).where(MirrorRow.tombstone.is_(True)))
    assert tombstones == 5  # EAR1 at 2 sites, X100 at 3


@pytest_twisted.inlineCallbacks
def test_mirrors_with_fingerprints_of_another_scheme_resend_once_without_conflicts(pair):
    """After an upgrade that changes how rows are fingerprinted, every stored fingerprint
    is stale on both sides: each row goes over once, found equal, and nothing else moves."""
    yield pair.converge()
    first = pair.agent_peer.stats["rows_sent"] + pair.cluster_peer.stats["rows_sent"]
    for engine in (pair.cluster_engine, pair.enterprise_engine):
        with engine.begin() as conn:
            conn.execute(update(MirrorRow).where(MirrorRow.tombstone.is_(False))
                         .values(row_hash="0" * 32, key_hash="0" * 32))
    before = pair.cluster_rows("items"), pair.enterprise_rows("stock")
    yield pair.converge()
    assert (pair.cluster_rows("items"), pair.enterprise_rows("stock")) == before
    assert _count(pair.cluster_engine, ConflictRecord.__table__) == 0
    sent = pair.agent_peer.stats["rows_sent"], pair.cluster_peer.stats["rows_sent"]
    assert 18 <= sum(sent) - first <= 36  # 5 items, 13 stock rows: once, from either side
    yield pair.converge()
    assert (pair.agent_peer.stats["rows_sent"], pair.cluster_peer.stats["rows_sent"]) == sent
    pair.assert_converged()
