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


def test_a_digest_pass_reads_a_chunk_per_step_and_chunking_does_not_change_it(tmp_path):
    from sqlalchemy import create_engine

    from sync import example
    from sync.cluster_tables import items_spec
    from sync.models import create_tables
    from sync.source import TableSource

    engine = create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        example.metadata.create_all(conn)
        create_tables(conn)
        conn.execute(example.goods.insert(), [
            {"goods_code": f"G{i:03d}", "goods_name": f"n{i}", "price": Decimal(i) / 4}
            for i in range(100)])
    source = TableSource(items_spec(), example.goods, example.GOODS_MAPPING)
    with engine.connect() as conn:
        small = digest.DigestPass(source, 16, chunk=7)
        steps = 1
        while small.step(conn):
            steps += 1
        whole = digest.DigestPass(source, 16, chunk=1000).run_all(conn)
        wanted = digest.DigestPass(source, 16, wanted=[3, 5], chunk=7).run_all(conn)
    engine.dispose()
    assert steps == 15  # 100 rows, 7 a step
    assert small.digests == whole.digests and len(set(whole.digests)) > 1
    assert wanted.rows and {digest.bucket_of(k, 16) for k in wanted.rows} <= {3, 5}
