"""`merp agent` next to an enterprise database on MariaDB, whose schema has its own table
and column names (and DECIMAL prices), synced with a gateway on loopback: edits on each
side converge, deletes propagate, a row edited on both sides gives one conflict.

Runs when MERP_TEST_MYSQL_URL names a scratch database (the enterprise's, here; the
gateway's store is SQLite)."""
from __future__ import annotations

from decimal import Decimal

import pytest
import pytest_twisted
from sqlalchemy import select, text, update
from twisted.internet import reactor

from erpcore import db, demo
from erpcore.items import Item
from gateway import config as gateway_config
from gateway.service import build_gateway
from sync.agent import AgentService
from sync.models import ConflictRecord
from sync.settings import parse_agent
from tests.sync.harness import make_cluster_db

AGENT_INI = """\
[agent]
database = {url}
enterprise = DEMO
gateway_url = http://127.0.0.1:1/sync/DEMO
secret = k
listen = tcp:0:interface=127.0.0.1

[table:items]
source = t_product
map = sku=prod_no, name=prod_title, name_en=title_en, brand=mfr, model=spec, tac=tac_code,
      unit_price=list_price
key_fields = sku, unit_price

[table:stock]
source = t_onhand
map = sku=prod_no, site=wh_code, quantity=on_hand
"""

ENTERPRISE_SCHEMA = (
    "CREATE TABLE t_product (prod_no VARCHAR(40) NOT NULL PRIMARY KEY, "
    "prod_title VARCHAR(100) NOT NULL, title_en VARCHAR(100), mfr VARCHAR(60), "
    "spec VARCHAR(60), tac_code CHAR(8), list_price DECIMAL(12,2)) "
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE t_onhand (prod_no VARCHAR(40) NOT NULL, wh_code VARCHAR(20) NOT NULL, "
    "on_hand INT NOT NULL, PRIMARY KEY (prod_no, wh_code)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
)


@pytest.fixture
def enterprise_mysql(empty_db_url):
    """The scratch MariaDB database, emptied, holding the enterprise's own schema."""
    engine = db.make_engine(empty_db_url)
    with engine.begin() as conn:
        for statement in ENTERPRISE_SCHEMA:
            conn.execute(text(statement))
        for sku, name, name_en, brand, model, tac, price in demo.ITEMS:
            conn.execute(text("INSERT INTO t_product VALUES (:s, :n, :e, :b, :m, :t, :p)"),
                         {"s": sku, "n": name, "e": name_en, "b": brand, "m": model, "t": tac,
                          "p": Decimal(price)})
        for sku, sites in demo.STOCK.items():
            for site, qty in sites.items():
                conn.execute(text("INSERT INTO t_onhand VALUES (:s, :w, :q)"),
                             {"s": sku, "w": site, "q": qty})
    yield engine
    engine.dispose()


@pytest.mark.parametrize("empty_db_url", ["mysql"], indirect=True)
@pytest_twisted.inlineCallbacks
def test_an_agent_on_mariadb_with_its_own_column_names_syncs_both_ways(
        empty_db_url, enterprise_mysql, tmp_path):
    cluster_url = f"sqlite:///{tmp_path / 'cluster.db'}"
    make_cluster_db(cluster_url)
    agent = AgentService(parse_agent(AGENT_INI.format(url=empty_db_url)), reactor)
    agent.startService()
    agent_port = yield agent.when_listening()
    peers = tmp_path / "peers.ini"
    peers.write_text("[enterprise:DEMO]\nsecret = k\n"
                     f"agent_url = http://127.0.0.1:{agent_port.getHost().port}/sync\n")
    gateway = build_gateway(gateway_config.parse(
        f"[gateway]\ndatabase = {cluster_url}\n[web]\nlisten = tcp:0:interface=127.0.0.1\n"
        f"[sync]\npeers = {peers}\n"), reactor)
    gateway.startService()
    ent = enterprise_mysql

    def cluster(sql_select):
        with gateway.engine.connect() as conn:
            return conn.execute(sql_select).all()

    def enterprise(sql, **params):
        with ent.begin() as conn:
            return conn.execute(text(sql), params).all() if sql.startswith("SELECT") else \
                conn.execute(text(sql), params)

    @pytest_twisted.inlineCallbacks
    def converge():
        for _ in range(3):
            yield agent.peer.cycle("full")
            yield gateway.sync.peers["DEMO"].cycle("full")
    try:
        web_port = yield gateway.when_web_listening()
        agent.client.base_url = f"http://127.0.0.1:{web_port.getHost().port}/sync/DEMO"
        yield converge()
        assert agent.side.backlog()[0] == 0  # the same data on both sides: nothing to send
        assert gateway.sync.peers["DEMO"].stats["rows_sent"] == 0

        enterprise("UPDATE t_product SET list_price = 4599.50 WHERE prod_no = 'X100'")
        enterprise("INSERT INTO t_product VALUES ('Z9', '新机', NULL, 'Acme', NULL, NULL, 10.25)")
        enterprise("UPDATE t_onhand SET on_hand = 7 WHERE prod_no = 'X100' AND wh_code = 'WH1'")
        enterprise("DELETE FROM t_onhand WHERE prod_no = 'EAR1'")
        with gateway.engine.begin() as conn:
            conn.execute(update(Item).where(Item.sku == "N200").values(name="诺基亚N200 新版"))
        yield converge()
        prices = dict(cluster(select(Item.sku, Item.unit_price)))
        assert prices["X100"] == Decimal("4599.50") and prices["Z9"] == Decimal("10.25")
        assert enterprise("SELECT prod_title FROM t_product WHERE prod_no = 'N200'") == [
            ("诺基亚N200 新版",)]
        from erpcore.stock import StockLevel
        with gateway.engine.connect() as conn:
            levels = conn.execute(select(Item.sku, StockLevel.quantity).join(
                StockLevel, StockLevel.item_id == Item.id)).all()
        assert ("X100", 7) in levels and not [s for s, _ in levels if s == "EAR1"]

        enterprise("UPDATE t_product SET list_price = 1.00 WHERE prod_no = 'C300'")
        with gateway.engine.begin() as conn:
            conn.execute(update(Item).where(Item.sku == "C300").values(unit_price=Decimal("2.00")))
        yield converge()
        [conflict] = cluster(select(ConflictRecord.pk, ConflictRecord.winner))
        assert conflict == ("C300", "enterprise")
        assert dict(cluster(select(Item.sku, Item.unit_price)))["C300"] == Decimal("1.00")
        sent = gateway.sync.peers["DEMO"].stats["rows_sent"], agent.peer.stats["rows_sent"]
        yield converge()
        assert (gateway.sync.peers["DEMO"].stats["rows_sent"], agent.peer.stats["rows_sent"]) == sent
    finally:
        yield agent.stopService()
        yield gateway.stopService()
