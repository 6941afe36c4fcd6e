#!/usr/bin/env python3
"""CPU per command in the gateway's dispatcher, by kind, without the network: stored MOs
of the load teams (erpcore.demo.seed_load_users) go through `Dispatcher.dispatch_batch`
in batches as the running gateway claims them, then the notifier queues what the batch
left to tell. Prints CPU milliseconds per command for STOCK, ORDER and APPROVE.

    python3 bench/dispatch.py sqlite
    python3 bench/dispatch.py mysql --phones 1000 --team-size 4 --batch 200
    python3 bench/dispatch.py sqlite --profile /tmp/dispatch.prof   # cProfile of the runs
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select  # noqa: E402

from erpcore import db, demo, inbox  # noqa: E402
from erpcore.orders import Order  # noqa: E402
from erpcore.tenants import Enterprise  # noqa: E402
from gateway.pipeline.dispatcher import Dispatcher  # noqa: E402
from gateway.pipeline.notifier import Notifier  # noqa: E402
from sim.load_mix import Layout  # noqa: E402
from bench.spine import database_url  # noqa: E402

LEASE = 60.0


@dataclass(frozen=True)
class Mo:
    link: str
    sender: str
    recipient: str
    text: str
    smsc_id: str
    concat: None = None


class NoClock:
    def seconds(self) -> float:
        return time.time()


class StatementCount:
    """SQL statements the engine sent (round trips on MariaDB), counted by an event."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


def run_kind(maker, dispatcher, notifier, mos: list[Mo], batch: int) -> float:
    """Store the MOs, then claim and dispatch them batch by batch (and notify after each
    batch, as the gateway does); CPU seconds spent in claim + dispatch + notify."""
    now = db_now()
    with db.session_scope(maker) as session:
        inbox.store(session, mos, now)
    spent = 0.0
    while True:
        started = time.process_time()
        with maker.begin() as session:
            claimed = inbox.claim(session, batch, db_now(), LEASE)
        if not claimed:
            break
        with maker.begin() as session:
            dispatcher.dispatch_batch(session, claimed, db_now())
        with maker.begin() as session:
            notifier.queue_batch(session, db_now())
        spent += time.process_time() - started
    return spent


def db_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", choices=("sqlite", "mysql"))
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--team-size", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200, help="MOs a dispatcher batch claims")
    parser.add_argument("--rounds", type=int, default=2, help="ORDER, APPROVE, STOCK rounds per clerk")
    parser.add_argument("--database", default="merp_bench_dispatch")
    parser.add_argument("--profile", metavar="FILE", help="cProfile stats of the measured part to FILE")
    parser.add_argument("--driver", choices=("pymysql", "mysqldb"), default="pymysql",
                        help="MariaDB driver: PyMySQL (pure Python) or mysqlclient (C)")
    parser.add_argument("--socket", metavar="PATH", help="reach MariaDB by this Unix socket, not TCP")
    args = parser.parse_args()

    layout = Layout(args.phones, team_size=args.team_size, service_code=demo.DEMO_SERVICE_CODE)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(args.store, Path(tmp), args.database, args.driver)
        if args.socket and args.store == "mysql":
            url += f"&unix_socket={args.socket}"
        db.upgrade(url)
        engine = db.make_engine(url)
        maker = db.make_sessionmaker(engine)
        with db.session_scope(maker) as session:
            demo.seed_load_users(session, args.phones, team_size=args.team_size)
        statements = StatementCount(engine)
        dispatcher = Dispatcher(None, NoClock(), demo.DEMO_SERVICE_CODE, batch=args.batch)
        notifier = Notifier(None, NoClock(), demo.DEMO_SERVICE_CODE, batch=1000)
        clerks = [i for i in range(args.phones) if not layout.is_manager(i)]
        managers = [i for i in range(args.phones) if layout.is_manager(i)]
        serial = iter(range(10**9))

        def mos(indexes, text_of):
            return [Mo("sim", layout.msisdn(i), layout.recipient(i), text_of(i), f"m{next(serial)}")
                    for i in indexes]

        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        spent = {"STOCK": 0.0, "ORDER": 0.0, "APPROVE": 0.0}
        counts = dict.fromkeys(spent, 0)
        sent = dict.fromkeys(spent, 0)
        for _ in range(args.rounds):
            stock = mos(clerks, lambda i: "STOCK X100")
            before = statements.count
            spent["STOCK"] += run_kind(maker, dispatcher, notifier, stock, args.batch)
            sent["STOCK"] += statements.count - before
            counts["STOCK"] += len(stock)
            orders = mos(clerks, lambda i: "ORDER X100 1")
            before = statements.count
            spent["ORDER"] += run_kind(maker, dispatcher, notifier, orders, args.batch)
            sent["ORDER"] += statements.count - before
            counts["ORDER"] += len(orders)
            with maker.begin() as session:
                waiting = session.execute(
                    select(Enterprise.extension, Order.number)
                    .join(Enterprise, Enterprise.id == Order.enterprise_id)
                    .where(Order.state == "pending_approval")
                ).all()
            team_manager = {layout.recipient(i): i for i in managers}
            approvals = [Mo("sim", layout.msisdn(team_manager[demo.DEMO_SERVICE_CODE + ext]),
                            demo.DEMO_SERVICE_CODE + ext, f"Y {number}", f"m{next(serial)}")
                         for ext, number in waiting]
            before = statements.count
            spent["APPROVE"] += run_kind(maker, dispatcher, notifier, approvals, args.batch)
            sent["APPROVE"] += statements.count - before
            counts["APPROVE"] += len(approvals)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        with maker.begin() as session:
            states = dict(session.execute(select(Order.state, func.count()).group_by(Order.state)).all())
        engine.dispose()
    for kind, seconds in spent.items():
        print(f"{kind:8s} {counts[kind]:6d} commands, {seconds / max(1, counts[kind]) * 1000:6.2f} ms CPU, "
              f"{sent[kind] / max(1, counts[kind]):5.1f} SQL statements each (store, claim, command, batch "
              f"write, notifications)")
    total = sum(spent.values())
    print(f"all      {sum(counts.values()):6d} commands, {total / sum(counts.values()) * 1000:6.2f} ms CPU each; "
          f"errors {dispatcher.command_errors}, orders by state {states}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
