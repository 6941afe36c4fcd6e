"""Fulfilling many approved orders at once (erpcore.fulfilment, erpcore.movement_batch)
leaves what ``orders.fulfil`` one order at a time leaves: the same levels (also two
orders on one item and site, and the quantities each reply tells), movements, order
states, audit entries and low-stock notices; a refusal of any order writes nothing."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, text

from erpcore import approvals, fulfilment, orders
from erpcore.errors import ErpError
from erpcore.items import Item
from erpcore.movements import InsufficientStock, InvalidMovement, Movement
from erpcore.orders import LineIn
from erpcore.stock import StockLevel
from erpcore.users import User
from tests.erpcore.documents_helpers import build_world

# (enterprise, kind, sku, quantity, site): approved at once (no rules), then fulfilled by
# the enterprise's storekeeper.
ORDERS = [
    ("demo", "purchase", "X100", 3, "WH1"),
    ("demo", "purchase", "X100", 2, "WH1"),  # the same level again: 250 + 3 + 2
    ("demo", "sales", "X100", 4, "HALL1"),  # 12 - 4
    ("other", "purchase", "X100", 5, "WH1"),
    ("demo", "purchase", "N200", 1, "HALL2"),
]


def made(session, world):
    other_items = dict(session.execute(select(Item.sku, Item.id).where(Item.enterprise_id == world.other)).all())
    other_sites = dict(session.execute(text("SELECT code, id FROM sites WHERE enterprise_id = :e"),
                                       {"e": world.other}).all())
    other_keeper = User(enterprise_id=world.other, username="keeper", display_name="Keeper",
                        msisdn="13900000077", role="storekeeper")
    session.add(other_keeper)
    session.flush()
    for enterprise in (world.demo, world.other):
        for kind in ("purchase", "sales"):
            approvals.set_rules(session, enterprise, kind, [])
    requests = []
    for who, kind, sku, quantity, site in ORDERS:
        demo = who == "demo"
        enterprise = world.demo if demo else world.other
        item = (world.items if demo else other_items)[sku]
        site_id = (world.sites if demo else other_sites)[site]
        requester = world.users["zhang"] if demo else world.other_user
        order = orders.create_order(
            session, enterprise, kind=kind, requester_user_id=requester, lines=[LineIn(item, quantity)],
            submit=True, **({"to_site_id": site_id} if kind == "purchase" else {"from_site_id": site_id}))
        assert order.state == "approved"
        actor = world.users["wang"] if demo else other_keeper.id
        requests.append(fulfilment.Request(enterprise, order, actor))
    return requests


def fulfilled(seeded, together: bool, change=None):
    """(levels each order's receipt tells, rows left) with the orders fulfilled together or
    one at a time; rolled back afterwards."""
    session = seeded()
    try:
        with session.begin():
            world = build_world(session)
            requests = made(session, world)
            if change is not None:
                change(session, world, requests)
            if together:
                told = fulfilment.fulfil_across(session, requests)
            else:
                told = []
                for request in requests:
                    levels: dict = {}
                    orders.fulfil(session, request.enterprise_id, request.order, request.actor_user_id,
                                  levels=levels)
                    told.append(levels)
            left = snapshot(session)
            session.rollback()
    finally:
        session.close()
    return told, left


def snapshot(session) -> dict:
    session.flush()

    def rows(sql):
        return sorted(tuple(str(v) for v in row) for row in session.execute(text(sql)))

    def plain(value):
        held = json.loads(value) if isinstance(value, str) else value
        if isinstance(held, dict):
            held = {k: v for k, v in held.items() if k not in ("number", "fulfilled_at")}
        return json.dumps(held, sort_keys=True)

    numbered = all(re.fullmatch(rf"MV{i:08d}", n or "") for i, n in session.execute(
        text("SELECT id, number FROM movements")))
    return {
        "levels": rows("SELECT item_id, site_id, quantity FROM stock_levels"),
        # Users by name: the keeper made per run has a new id each time on MariaDB.
        "movements": rows("SELECT m.enterprise_id, m.kind, m.item_id, m.quantity, m.from_site_id, m.to_site_id,"
                          " m.reference, u.username FROM movements m JOIN users u ON u.id = m.actor_user_id"),
        "numbered": numbered,
        "orders": rows("SELECT enterprise_id, number, state, on_time, fulfilled_at IS NOT NULL FROM orders"),
        "audit": sorted((str(e), str(a), act, ent, plain(after)) for e, a, act, ent, after in session.execute(
            text("SELECT a.enterprise_id, u.username, a.action, a.entity, a.after FROM audit_log a"
                 " LEFT JOIN users u ON u.id = a.actor_user_id"))),
        "notifications": rows("SELECT enterprise_id, user_id, msisdn, text_en, `key` FROM notifications"),
    }


def test_together_leaves_what_one_at_a_time_leaves(seeded):
    alone = fulfilled(seeded, together=False)
    together = fulfilled(seeded, together=True)
    assert together == alone
    told, left = together
    assert left["numbered"] and len(left["movements"]) == len(ORDERS)
    assert [sorted(levels.values()) for levels in told][:3] == [[253], [255], [8]]  # each after its own move
    assert {state for _e, _n, state, *_rest in left["orders"]} == {"fulfilled"}


def _short_of_stock(session, world, requests):
    session.execute(StockLevel.__table__.update().where(
        StockLevel.item_id == world.items["X100"], StockLevel.site_id == world.sites["HALL1"]).values(quantity=3))


def _serialised(session, world, requests):
    session.get(Item, world.items["N200"]).serialised = True
    session.flush()


@pytest.mark.parametrize("change, refusal", [(_short_of_stock, InsufficientStock), (_serialised, InvalidMovement)],
                         ids=["short of stock", "serialised"])
def test_a_refusal_of_any_order_writes_nothing(seeded, change, refusal):
    session = seeded()
    try:
        with session.begin():
            world = build_world(session)
            requests = made(session, world)
            change(session, world, requests)
            before = snapshot(session)
            movements_before = session.scalar(select(func.count()).select_from(Movement))
            with pytest.raises(refusal) as raised:
                fulfilment.fulfil_across(session, requests)
            assert isinstance(raised.value, ErpError)
            assert session.scalar(select(func.count()).select_from(Movement)) == movements_before
            assert snapshot(session) == before
            session.rollback()
    finally:
        session.close()


def test_the_movements_of_many_orders_take_one_insert_on_mariadb(seeded):
    session = seeded()
    seen: list[str] = []
    try:
        with session.begin():
            world = build_world(session)
            requests = made(session, world)
            from sqlalchemy import event

            engine = session.get_bind()

            def record(_conn, _cursor, statement, *_args):
                seen.append(statement.lstrip().upper())
            event.listen(engine, "before_cursor_execute", record)
            try:
                fulfilment.fulfil_across(session, requests)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            session.rollback()
    finally:
        session.close()
    inserts = [s for s in seen if s.startswith("INSERT INTO MOVEMENTS")]
    order_updates = [s for s in seen if s.startswith("UPDATE ORDERS")]
    level_updates = [s for s in seen if s.startswith("UPDATE STOCK_LEVELS")]
    assert len(order_updates) == 1 and len(level_updates) == 1
    if engine.dialect.name != "sqlite":  # SQLAlchemy inserts with RETURNING row by row on SQLite
        assert len(inserts) == 1
