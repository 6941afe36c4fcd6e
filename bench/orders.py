#!/usr/bin/env python3
"""Benchmark of the order service layer: orders created, submitted and approved per second
(erpcore.orders + erpcore.approvals, audit trail included), committed in batches.

    python3 bench/orders.py mysql               # MariaDB at 127.0.0.1 (database merp_bench_orders)
    python3 bench/orders.py sqlite --count 5000 --batch 100
    python3 bench/orders.py mysql --two-level   # ≥ 10,000: manager then finance
    python3 bench/orders.py mysql --per-order   # create_order/submit/approve per order
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from erpcore import approvals, db, orders  # noqa: E402
from erpcore.demo import seed_demo  # noqa: E402
from erpcore.orders import LineIn  # noqa: E402
from erpcore.users import User  # noqa: E402


def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS merp_bench_orders")
        cur.execute("CREATE DATABASE merp_bench_orders CHARACTER SET utf8mb4")
    conn.close()
    return "mysql+pymysql://root@127.0.0.1:3306/merp_bench_orders?charset=utf8mb4"


def seed(maker) -> dict:
    with db.session_scope(maker) as session:
        enterprise = seed_demo(session)
        session.add(User(enterprise_id=enterprise.id, username="li", display_name="李财务",
                         msisdn="13800000004", role="finance"))
        session.flush()
        approvals.install_default_rules(session, enterprise.id)
        users = {u.username: u.id for u in session.query(User).filter_by(enterprise_id=enterprise.id)}
        item = session.query(orders.Item).filter_by(enterprise_id=enterprise.id, sku="CHG1").one()
        site = session.query(orders.Site).filter_by(enterprise_id=enterprise.id, code="WH1").one()
        return {"enterprise": enterprise.id, "users": users, "item": item.id, "site": site.id}


def run(maker, world: dict, count: int, batch: int, two_level: bool, per_order: bool) -> float:
    """Seconds taken to create, submit and approve ``count`` orders: through the batch
    functions (create_orders, submit_many, approve_many) or one call per order."""
    price = "20000.00" if two_level else "50.00"
    eid, users = world["enterprise"], world["users"]
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(batch, count - done)
        with db.session_scope(maker) as session:
            if per_order:
                created = []
                for _ in range(size):
                    order = orders.create_order(
                        session, eid, kind="purchase", requester_user_id=users["zhang"],
                        lines=[LineIn(world["item"], 10, price)], to_site_id=world["site"],
                    )
                    orders.submit(session, eid, order.number, users["zhang"])
                    approvals.approve(session, eid, order.number, users["smith"])
                    if two_level:
                        approvals.approve(session, eid, order.number, users["li"])
                    created.append(order)
            else:
                draft = orders.Draft("purchase", users["zhang"], [LineIn(world["item"], 10, price)],
                                     to_site_id=world["site"])
                created = orders.create_orders(session, eid, [draft] * size)
                orders.submit_many(session, eid, created, users["zhang"])
                approvals.approve_many(session, eid, created, users["smith"])
                if two_level:
                    approvals.approve_many(session, eid, created, users["li"])
            assert all(order.state == "approved" for order in created)
        done += size
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", choices=("sqlite", "mysql"))
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100, help="orders per transaction")
    parser.add_argument("--two-level", action="store_true", help="orders that need manager and finance")
    parser.add_argument("--per-order", action="store_true",
                        help="one create/submit/approve call per order instead of the batch calls")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the run to FILE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(args.store, Path(tmp))
        db.upgrade(url)
        engine = db.make_engine(url)
        maker = db.make_sessionmaker(engine)
        world = seed(maker)
        run(maker, world, min(200, args.count), args.batch, args.two_level, args.per_order)  # warm caches
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            seconds = profiler.runcall(run, maker, world, args.count, args.batch, args.two_level, args.per_order)
            profiler.dump_stats(args.profile)
        else:
            seconds = run(maker, world, args.count, args.batch, args.two_level, args.per_order)
        engine.dispose()
    levels = "two approvals" if args.two_level else "one approval"
    levels += ", one call per order" if args.per_order else ", batch calls"
    print(f"{args.store}: {args.count} orders created, submitted and approved ({levels}) in "
          f"{seconds:.2f} s = {args.count / seconds:,.0f} orders/s (batch {args.batch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
