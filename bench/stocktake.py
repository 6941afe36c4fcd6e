#!/usr/bin/env python3
"""Benchmark: importing a counted stocktake file of 100,000 lines (handsets by IMEI at the
central warehouse, 10 missing and 10 extra) and computing the difference report; then the
same import with the adjust movements posted.

    python3 bench/stocktake.py                 # SQLite and MariaDB (127.0.0.1, merp_bench_stock)
    python3 bench/stocktake.py sqlite --lines 200000
"""
from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from stock_common import fresh_database, imeis, prepare

from erpcore import stocktake
from erpcore.db import session_scope
from erpcore.movements import move
from erpcore.sites import Site
from sqlalchemy import select

DOCUMENT = 20000


def run(kind: str, lines: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as workdir:
        url = fresh_database(kind, Path(workdir))
        maker, enterprise_id, item_id = prepare(url)
        books = imeis(lines)
        with session_scope(maker) as session:
            site_id = session.scalar(select(Site.id).where(Site.enterprise_id == enterprise_id, Site.code == "WH1"))
        for start in range(0, lines, DOCUMENT):
            with session_scope(maker) as session:
                move(session, enterprise_id, kind="receive", item_id=item_id, to_site_id=site_id,
                     imeis=books[start:start + DOCUMENT])
        counted = books[10:] + imeis(10, start=lines)
        text = "site,sku,quantity,imei\n" + "".join(f"WH1,P40,1,{i}\n" for i in counted)
        started = time.perf_counter()
        with session_scope(maker) as session:
            report = stocktake.import_counts(session, enterprise_id, io.StringIO(text))
        report_time = time.perf_counter() - started
        started = time.perf_counter()
        with session_scope(maker) as session:
            stocktake.import_counts(session, enterprise_id, io.StringIO(text), adjust=True)
        adjust_time = time.perf_counter() - started
        maker.kw["bind"].dispose()
        [diff] = [d for d in report.differences if d.sku == "P40"]
        return report_time, adjust_time, len(diff.missing_imeis) + len(diff.extra_imeis)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", nargs="?", choices=("sqlite", "mysql", "both"), default="both")
    parser.add_argument("--lines", type=int, default=100000)
    args = parser.parse_args()
    for kind in (("sqlite", "mysql") if args.backend == "both" else (args.backend,)):
        report_time, adjust_time, differing = run(kind, args.lines)
        print(f"{kind:6s} stocktake import of {args.lines} lines: report {report_time:.2f} s, "
              f"with adjustments {adjust_time:.2f} s ({differing} IMEIs differ)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
