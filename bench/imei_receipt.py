#!/usr/bin/env python3
"""Benchmark: one receipt document of 20,000 IMEIs through erpcore.movements.move
(validation, duplicate check, handsets, history, stock level, audit) and its commit.

    python3 bench/imei_receipt.py              # SQLite and MariaDB (127.0.0.1, merp_bench_stock)
    python3 bench/imei_receipt.py sqlite --count 50000
Target (issue 3): < 2 s on MariaDB.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from stock_common import fresh_database, imeis, prepare

from erpcore.db import session_scope
from erpcore.movements import move
from erpcore.sites import Site
from sqlalchemy import select


def run(kind: str, count: int) -> float:
    with tempfile.TemporaryDirectory() as workdir:
        url = fresh_database(kind, Path(workdir))
        maker, enterprise_id, item_id = prepare(url)
        serials = imeis(count)
        with session_scope(maker) as session:
            site_id = session.scalar(select(Site.id).where(Site.enterprise_id == enterprise_id, Site.code == "WH1"))
        started = time.perf_counter()
        with session_scope(maker) as session:
            move(session, enterprise_id, kind="receive", item_id=item_id, to_site_id=site_id, imeis=serials,
                 reference="bench")
        elapsed = time.perf_counter() - started
        maker.kw["bind"].dispose()
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", nargs="?", choices=("sqlite", "mysql", "both"), default="both")
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    for kind in (("sqlite", "mysql") if args.backend == "both" else (args.backend,)):
        elapsed = run(kind, args.count)
        print(f"{kind:6s} receipt of {args.count} IMEIs: {elapsed:.2f} s ({args.count / elapsed:,.0f} IMEIs/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
