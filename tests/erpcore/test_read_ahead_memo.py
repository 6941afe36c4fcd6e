"""Rows read ahead for a dispatcher batch (erpcore.memo, document_memo and the remember_*
functions): a lookup answers from them without a query, only for its own tenant, and a
write that changes them drops them, so that what a rolled-back savepoint wrote is never
seen and what a committed write changed always is."""
from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from erpcore import approvals, document_memo, movements, orders
from erpcore.services import ensure_open
from erpcore.items import AmbiguousItem, Item, find_item, remember_skus
from erpcore.sites import Site, find_site, remember_codes
from erpcore.stock import remember_levels, stock_of
from erpcore.tenants import Enterprise
from erpcore.users import User


@contextmanager
def statements(session):
    """The SQL statements run inside the block."""
    seen: list[str] = []
    engine = session.get_bind()

    def _seen(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", _seen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _seen)


def enterprise(session, code: str) -> Enterprise:
    return session.scalars(select(Enterprise).where(Enterprise.code == code)).one()


def user(session, enterprise_id: int, username: str) -> User:
    return session.scalars(select(User).where(User.enterprise_id == enterprise_id,
                                              User.username == username)).one()


def site(session, enterprise_id: int, code: str) -> Site:
    return session.scalars(select(Site).where(Site.enterprise_id == enterprise_id, Site.code == code)).one()


def purchase(session, enterprise_id: int, requester: User, sku: str, quantity: int, to_site: Site):
    item = find_item(session, enterprise_id, sku)
    return orders.create_order(session, enterprise_id, kind="purchase", requester_user_id=requester.id,
                               lines=[orders.LineIn(item.id, quantity)], to_site_id=to_site.id, submit=True)


def test_an_item_read_ahead_answers_its_own_tenant_without_a_query(session):
    demo, other = enterprise(session, "DEMO"), enterprise(session, "OTHER")
    remember_skus(session, [(demo.id, "x100")])
    with statements(session) as seen:
        item = find_item(session, demo.id, "X100")
    assert (item.enterprise_id, item.sku, seen) == (demo.id, "X100", [])
    theirs = find_item(session, other.id, "X100")  # both have an X100: not the demo's
    assert theirs.enterprise_id == other.id and theirs.name == "别家X100"


def test_a_sku_another_row_might_match_is_left_to_the_query(session):
    """SQLite's unique SKU is case-sensitive: X100 and x100 both exist, and the query
    says the SKU is ambiguous, with or without the read-ahead."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("MariaDB's collation refuses the second SKU")
    demo = enterprise(session, "DEMO")
    session.add(Item(enterprise_id=demo.id, sku="x100", name="小写", unit_price=Decimal("1.00")))
    session.flush()
    remember_skus(session, [(demo.id, "X100")])
    with pytest.raises(AmbiguousItem):
        find_item(session, demo.id, "X100")


def test_an_item_added_in_the_transaction_drops_the_items_read_ahead(session):
    """A flushed (or pending) Item makes the lookup query again, as it would have."""
    demo = enterprise(session, "DEMO")
    remember_skus(session, [(demo.id, "X100")])
    x100 = find_item(session, demo.id, "X100")
    x100.sku = "X100-OLD"  # pending, not flushed: the lookup flushes it first
    with statements(session) as seen:
        with pytest.raises(Exception) as refused:
            find_item(session, demo.id, "X100")
    assert type(refused.value).__name__ == "ItemNotFound"
    assert seen  # asked the database


def test_a_site_read_ahead_by_code_answers_only_its_own_tenant(session):
    demo, other = enterprise(session, "DEMO"), enterprise(session, "OTHER")
    remember_codes(session, [(demo.id, "wh1")])
    with statements(session) as seen:
        found = find_site(session, demo.id, "WH1")
    assert (found.enterprise_id, found.code, seen) == (demo.id, "WH1", [])
    assert find_site(session, other.id, "WH1").name == "别家仓库"


def test_a_movement_drops_the_stock_levels_it_changed(session):
    """Read ahead 12; a receipt of 5 makes it 17 (the memo dropped, read again); the
    savepoint rolled back makes it 12 again (not a patched 17)."""
    demo = enterprise(session, "DEMO")
    x100, hall1 = find_item(session, demo.id, "X100"), site(session, demo.id, "HALL1")
    remember_levels(session, [(x100.id, hall1.id)])
    with statements(session) as seen:
        assert stock_of(session, demo.id, "X100", "HALL1").total == 12
    assert not [s for s in seen if "stock_levels" in s]
    savepoint = session.begin_nested()
    movements.move(session, demo.id, kind="receive", item_id=x100.id, quantity=5, to_site_id=hall1.id)
    assert stock_of(session, demo.id, "X100", "HALL1").total == 17
    savepoint.rollback()
    assert stock_of(session, demo.id, "X100", "HALL1").total == 12


def test_deciding_drops_the_decisions_read_ahead(session):
    """A manager's approval of level 1 of 2 is seen by the next read of who decided;
    rolled back, it is not."""
    demo = enterprise(session, "DEMO")
    clerk, manager = user(session, demo.id, "zhang"), user(session, demo.id, "smith")
    order = purchase(session, demo.id, clerk, "X100", 3, site(session, demo.id, "HALL1"))  # 14,997
    assert (order.state, order.awaiting_role) == ("pending_approval", "manager")
    document_memo.remember_decisions(session, [order.id])
    with statements(session) as seen:
        assert approvals._decided_by(session, [order]) == {order.id: set()}
    assert seen == []
    savepoint = session.begin_nested()
    approvals.approve(session, demo.id, order, manager.id)
    assert approvals._decided_by(session, [order]) == {order.id: {manager.id}}
    with pytest.raises(approvals.SelfApproval):
        approvals.approve(session, demo.id, order, manager.id)
    savepoint.rollback()
    assert approvals._decided_by(session, [order]) == {order.id: set()}


def test_a_rejection_drops_the_decisions_read_ahead(session):
    demo = enterprise(session, "DEMO")
    clerk, manager = user(session, demo.id, "zhang"), user(session, demo.id, "smith")
    order = purchase(session, demo.id, clerk, "X100", 1, site(session, demo.id, "HALL1"))
    document_memo.remember_decisions(session, [order.id])
    approvals.reject(session, demo.id, order, manager.id, "too dear")
    assert approvals._decided_by(session, [order]) == {order.id: {manager.id}}


def test_set_rules_drops_the_rules_read_ahead(session):
    demo = enterprise(session, "DEMO")
    document_memo.remember_rules(session, [demo.id])
    assert approvals.opening(session, demo.id, "purchase", Decimal("1"))["awaiting_role"] == "manager"
    approvals.set_rules(session, demo.id, "purchase", [(1, "0", "finance")])
    assert approvals.opening(session, demo.id, "purchase", Decimal("1"))["awaiting_role"] == "finance"


def test_approvers_read_ahead_follow_the_users_changed_in_the_session(session):
    demo, other = enterprise(session, "DEMO"), enterprise(session, "OTHER")
    smith = user(session, demo.id, "smith")
    document_memo.remember_approvers(session, [demo.id, other.id], ["manager", "finance"])
    with statements(session) as seen:
        assert approvers_named(session, demo.id, "manager") == ["smith"]
        assert approvers_named(session, other.id, "manager") == []
    assert seen == []
    newcomer = User(enterprise_id=demo.id, username="li", display_name="李", msisdn="13800000077",
                    role="manager")
    session.add(newcomer)  # pending: the lookup flushes it, which drops the approvers
    assert approvers_named(session, demo.id, "manager") == ["smith", "li"]
    document_memo.remember_approvers(session, [demo.id], ["manager"])
    smith.active = False
    assert approvers_named(session, demo.id, "manager") == ["li"]


def approvers_named(session, enterprise_id: int, role: str) -> list[str]:
    return [u.username for u in approvals.approvers(session, enterprise_id, role)]


def test_an_order_read_ahead_is_handed_out_once_and_only_to_its_tenant(session):
    demo, other = enterprise(session, "DEMO"), enterprise(session, "OTHER")
    ensure_open(session, other.id)
    mine = purchase(session, demo.id, user(session, demo.id, "zhang"), "X100", 1, site(session, demo.id, "HALL1"))
    theirs = purchase(session, other.id, user(session, other.id, "zhang"), "X100", 1, site(session, other.id, "OWH"))
    assert mine.number == theirs.number == "1001"
    document_memo.remember_orders(session, [(demo.id, "1001"), (demo.id, "1002")])
    assert orders.get_order(session, other.id, "1001") is theirs
    with pytest.raises(orders.OrderNotFound):
        orders.get_order(session, other.id, "1002")
    with statements(session) as seen:
        assert orders.get_order(session, demo.id, "1001") is mine
    assert seen == []
    with statements(session) as seen:  # taken: the next command reads it again
        assert orders.get_order(session, demo.id, "1001") is mine
    assert seen


def test_read_ahead_rows_are_kept_for_one_transaction_only(seeded):
    from erpcore.db import session_scope

    with session_scope(seeded) as session:
        demo_id = enterprise(session, "DEMO").id
        remember_skus(session, [(demo_id, "X100")])
    with session_scope(seeded) as session:
        session.connection()
        with statements(session) as seen:
            find_item(session, demo_id, "X100")
        assert seen
