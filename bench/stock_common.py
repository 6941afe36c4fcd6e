"""Shared set-up of the stock benchmarks: a fresh database (SQLite file or the MariaDB
scratch database merp_bench_stock) with the demo enterprise and a serialised handset."""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from erpcore import db  # noqa: E402
from erpcore.demo import seed_demo  # noqa: E402
from erpcore.imei import luhn_check_digit  # noqa: E402
from erpcore.items import Item  # noqa: E402

MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/merp_bench_stock?charset=utf8mb4"
TAC = "35328507"


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS merp_bench_stock")
        cur.execute("CREATE DATABASE merp_bench_stock CHARACTER SET utf8mb4")
    conn.close()
    return MYSQL_URL


def prepare(url: str):
    """Migrate, seed the demo and add the serialised item P40; (sessionmaker, enterprise id, item id)."""
    db.upgrade(url)
    maker = db.make_sessionmaker(db.make_engine(url))
    with db.session_scope(maker) as session:
        enterprise = seed_demo(session)
        item = Item(enterprise_id=enterprise.id, sku="P40", name="P40", tac=TAC, serialised=True,
                    unit_price=Decimal("1999.00"))
        session.add(item)
        session.flush()
        ids = enterprise.id, item.id
    return maker, ids[0], ids[1]


def imeis(count: int, start: int = 0) -> list[str]:
    bodies = (f"{TAC}{n:06d}" for n in range(start, start + count))
    return [body + luhn_check_digit(body) for body in bodies]
