"""The periodic full sync compares bucket digests first and sends only the rows that
differ, repairing a divergence that incremental scans cannot see."""
from __future__ import annotations

from decimal import Decimal

import pytest_twisted
from sqlalchemy import update

from erpcore.items import Item
from sync import digest


@pytest_twisted.inlineCallbacks
def test_a_silent_divergence_is_found_by_digests_and_repaired_with_one_row(pair):
    yield pair.converge()
    with pair.cluster_engine.begin() as conn:  # behind sync's back: table and mirror alike
        conn.execute(update(Item).where(Item.sku == "C300").values(unit_price=Decimal("1.00")))
    pair.cluster.scan("items")
    with pair.cluster_engine.begin() as conn:
        from sync.models import MirrorRow
        conn.execute(update(MirrorRow).values(flag="confirmed"))
    assert pair.cluster_rows("items")[("C300",)][6] == "1"
    sent = pair.agent_peer.stats["rows_sent"]
    marked = yield pair.agent_peer.full_sync()
    assert marked == 1
    assert pair.agent_peer.stats["rows_sent"] - sent == 1
    pair.assert_converged()
    assert (yield pair.agent_peer.full_sync()) == 0


def test_equal_tables_have_equal_digests_whatever_the_numeric_types():
    from sync.spec import portable_hash

    assert portable_hash(("A", Decimal("899.00"), 3)) == portable_hash(("A", 899.0, Decimal(3)))
    assert digest.differing_buckets(["a", "b", "c"], ["a", "x", "c"]) == [1]
