"""Sync benchmark: rows/s of a full scan of a 1,000,000-row table against its mirror, and
the time from an edit of 10,000 rows in the enterprise database to their arrival at the
cluster (agent and gateway endpoints over loopback HTTP in one process).

    python3 bench/sync_scan.py [--rows 1000000] [--changed 10000] [--url sqlite:///...]

Targets (issue 7): full scan >= 200,000 rows/s; 10,000 changed rows converged in < 5 s.
Each figure is given in wall-clock time and in this process's CPU time: on a shared box
the CPU figure is the one to compare.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select, update  # noqa: E402

from erpcore import db  # noqa: E402
from sync import example  # noqa: E402
from sync.cluster_tables import items_spec  # noqa: E402
from sync.models import MirrorRow, create_tables  # noqa: E402
from sync.scan import FULL, scan  # noqa: E402
from sync.source import TableSource  # noqa: E402

M = MirrorRow.__table__


def fill(engine, rows: int) -> None:
    with engine.begin() as conn:
        example.metadata.create_all(conn)
        create_tables(conn)
        step = 50_000
        for start in range(0, rows, step):
            conn.execute(example.goods.insert(), [
                {"goods_code": f"G{i:07d}", "goods_name": f"商品{i}", "goods_name_en": f"Goods {i}",
                 "maker": "Acme", "model_no": f"M{i % 977}", "tac": None,
                 "price": Decimal(i % 10000) / 100}
                for i in range(start, min(rows, start + step))])


def filled(engine) -> int:
    """Rows of an existing goods table (0 when there is none)."""
    from sqlalchemy import func, inspect

    with engine.connect() as conn:
        if "goods" not in inspect(conn).get_table_names():
            return 0
        return conn.scalar(select(func.count()).select_from(example.goods))


def bench_scan(url: str, rows: int, chunk: int) -> None:
    engine = db.make_engine(url)
    reuse = filled(engine)
    if reuse:  # a database filled and scanned by an earlier run with this --url
        rows = reuse
        print(f"reusing the {rows:,} rows of {url}")
    else:
        fill(engine, rows)
    with engine.connect() as conn:
        source = TableSource.reflect(items_spec(), conn, "goods", example.GOODS_MAPPING)
    if not reuse:
        t0 = time.perf_counter()
        with engine.begin() as conn:
            first = scan(conn, source, "BENCH", FULL, chunk)
        t1 = time.perf_counter()
        print(f"first full scan (mirror empty, {first.inserts} inserts marked): "
              f"{first.rows / (t1 - t0):,.0f} rows/s ({t1 - t0:.2f} s)")
        with engine.begin() as conn:  # unchanged: nothing to mark
            assert scan(conn, source, "BENCH", FULL, chunk).changes == 0
    edited = [f"G{i:07d}" for i in range(0, rows, max(1, rows // 1000))]
    with engine.begin() as conn:  # a new maker each run, so a reused database changes too
        conn.execute(update(example.goods).where(example.goods.c.goods_code.in_(edited))
                     .values(maker=f"Changed {time.time_ns()}"))
    if url.startswith("sqlite"):  # steady state: the bulk load checkpointed out of the WAL
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    stamp = int(time.time() * 1000)  # the scan's changed_ms: finds the rows it marked
    t2, c2 = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        second = scan(conn, source, "BENCH", FULL, chunk, now_ms=stamp)
    t3, c3 = time.perf_counter(), time.process_time()
    with engine.connect() as conn:
        marked = set(conn.scalars(select(M.c.pk).where(M.c.scope == "BENCH",
                                                       M.c.changed_ms == stamp)))
    engine.dispose()
    assert (second.rows, second.updates, second.inserts, second.deletes) == (
        rows, len(edited), 0, 0), f"the scan must see every row and exactly the edits: {second}"
    assert marked == set(edited), "the scan marked other rows than the edited ones"
    print(f"full scan of {second.rows:,} rows against the mirror ({second.updates} updates found): "
          f"{second.rows / (t3 - t2):,.0f} rows/s ({t3 - t2:.2f} s), "
          f"CPU {second.rows / (c3 - c2):,.0f} rows/s ({c3 - c2:.2f} s)  [target >= 200,000]")


def bench_changes(cluster_url: str, enterprise_url: str, changed: int) -> None:
    from twisted.internet import defer, reactor
    from twisted.python.failure import Failure

    from tests.sync.harness import Pair
    from sync.side import SideSettings

    settings = SideSettings(chunk_rows=1000, batch_rows=10_000, scan_chunk=5000)
    pair = Pair(cluster_url, enterprise_url, settings=settings)
    with pair.enterprise_engine.begin() as conn:
        conn.execute(example.goods.insert(), [
            {"goods_code": f"B{i:06d}", "goods_name": f"货{i}", "price": Decimal("1.00")}
            for i in range(changed)])
    out = {}

    @defer.inlineCallbacks
    def run():
        yield pair.start()
        yield pair.converge()
        with pair.enterprise_engine.begin() as conn:
            conn.execute(update(example.goods).where(example.goods.c.goods_code.like("B%"))
                         .values(price=Decimal("2.50")))
        t0, c0 = time.perf_counter(), time.process_time()
        yield pair.agent_peer.cycle("full")
        out["seconds"] = time.perf_counter() - t0
        out["cpu"] = time.process_time() - c0
        rows = pair.cluster_rows("items")
        out["arrived"] = sum(1 for k, r in rows.items() if k[0].startswith("B") and r[6] == "2.5")
        yield pair.stop()

    def done(result):
        if isinstance(result, Failure):
            result.printTraceback()
        reactor.stop()
    reactor.callWhenRunning(lambda: run().addBoth(done))
    reactor.run()
    print(f"{changed:,} changed rows from enterprise edit to cluster: {out['seconds']:.2f} s, "
          f"CPU {out['cpu']:.2f} s ({out['arrived']:,} arrived)  [target < 5 s]")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--url", help="database of the scan benchmark (default: a temp SQLite); "
                                      "one filled by an earlier run is reused as it is")
    parser.add_argument("--no-changes", action="store_true",
                        help="only the scan benchmark, not the 10,000 changed rows")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bench_scan(args.url or f"sqlite:///{tmp}/scan.db", args.rows, args.chunk)
        if not args.no_changes:
            bench_changes(f"sqlite:///{tmp}/cluster.db", f"sqlite:///{tmp}/enterprise.db",
                          args.changed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
