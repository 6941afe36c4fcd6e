"""An example enterprise schema with its own names (goods, inventory), as an existing ERP
might have it, and the agent mapping onto merp's canonical items and stock. Used by the
tests, the benchmark and `merp agent --example-ini`.
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table

metadata = MetaData()

goods = Table(
    "goods", metadata,
    Column("goods_code", String(32), primary_key=True),
    Column("goods_name", String(128), nullable=False),
    Column("goods_name_en", String(128)),
    Column("maker", String(64)),
    Column("model_no", String(64)),
    Column("tac", String(8)),
    Column("price", Numeric(12, 2)),
    mysql_engine="InnoDB", mysql_charset="utf8mb4",
)

inventory = Table(
    "inventory", metadata,
    Column("goods_code", String(32), primary_key=True),
    Column("store_code", String(32), primary_key=True),
    Column("qty", Integer, nullable=False, default=0),
    mysql_engine="InnoDB", mysql_charset="utf8mb4",
)

GOODS_MAPPING = {"sku": "goods_code", "name": "goods_name", "name_en": "goods_name_en",
                 "brand": "maker", "model": "model_no", "tac": "tac", "unit_price": "price"}
INVENTORY_MAPPING = {"sku": "goods_code", "site": "store_code", "quantity": "qty"}

EXAMPLE_INI = """\
# merp enterprise agent (merp agent -c agent.ini)
[agent]
# SQLAlchemy URL of the enterprise's own ERP database
database = sqlite:///enterprise.db
# the enterprise's code at the merp cluster
enterprise = DEMO
# the cluster's sync endpoints for this enterprise
gateway_url = http://127.0.0.1:8080/sync/DEMO
# for an https gateway_url signed by a private CA (or self-signed): that CA's PEM file
# ca_file = /etc/merp/gateway-ca.pem
# shared secret (the same as in the cluster's sync file)
secret = change-me
# where this agent serves its side (Twisted endpoint; ssl:8443:privateKey=..:certKey=.. for TLS)
listen = tcp:8090:interface=127.0.0.1
heartbeat_interval = 30
fast_scan_interval = 10
full_scan_interval = 3600
full_sync_interval = 86400

# one [table:NAME] per synced canonical table (items, stock)
[table:items]
source = goods
rule = enterprise_wins
map = sku=goods_code, name=goods_name, name_en=goods_name_en, brand=maker,
      model=model_no, tac=tac, unit_price=price

[table:stock]
source = inventory
rule = enterprise_wins
map = sku=goods_code, site=store_code, quantity=qty
"""
