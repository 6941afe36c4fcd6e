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

def fill_example_db(connection, with_demo_data: bool = True) -> None:
    """Create the example schema (and the sync tables) on ``connection``; with demo data,
    the demo enterprise's items and stock as this ERP would hold them."""
    from erpcore import demo
    from sync.models import create_tables

    metadata.create_all(connection)
    create_tables(connection)
    if not with_demo_data:
        return
    for sku, name, name_en, brand, model, tac, price in demo.ITEMS:
        connection.execute(goods.insert().values(
            goods_code=sku, goods_name=name, goods_name_en=name_en, maker=brand,
            model_no=model, tac=tac, price=price))
    for sku, sites in demo.STOCK.items():
        for site, qty in sites.items():
            connection.execute(inventory.insert().values(goods_code=sku, store_code=site,
                                                         qty=qty))


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
# alarms (in this agent's log): after this many failed requests to the gateway, when
# changes wait longer than lag_alarm_seconds, and when the gateway has sent nothing for
# silence_alarm_seconds (0: alarm_after_failures + 1 heartbeat intervals)
alarm_after_failures = 3
lag_alarm_seconds = 600
silence_alarm_seconds = 0

# one [table:NAME] per synced canonical table (items, stock):
#   items: sku (the key), name, name_en, brand, model, tac, unit_price
#   stock: sku and site (the key), quantity
# source: the enterprise's table; map: canonical field = its column (unmapped fields use a
# column of the same name); rule: who wins a row changed on both sides (enterprise_wins,
# cluster_wins, newer_wins, manual); key_fields: what the frequent fast scan watches (the
# hourly full scan watches every field)
[table:items]
source = goods
rule = enterprise_wins
map = sku=goods_code, name=goods_name, name_en=goods_name_en, brand=maker,
      model=model_no, tac=tac, unit_price=price
key_fields = sku, name, unit_price

[table:stock]
source = inventory
rule = enterprise_wins
map = sku=goods_code, site=store_code, quantity=qty
key_fields = sku, site, quantity
"""
