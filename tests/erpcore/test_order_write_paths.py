"""The cheaper write paths an SMS ORDER and APPROVE take (issue 4) leave what the plain ones
leave: an order created and submitted at once, approval rules remembered for a transaction
until they change, a fulfilment whose audit entries go into the caller's trail only once it
has succeeded, movements that trust rows the session holds only for their own tenant, one
statement per document number, and stored notifications counted for the dispatcher."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from erpcore import approvals, audit, events, movements, notifications, orders
from erpcore.audit import AuditEntry
from erpcore.errors import NotFound
from erpcore.items import Item
from erpcore.movements import InsufficientStock, Movement
from erpcore.orders import LineIn
from erpcore.sites import Site
from erpcore.stock import StockLevel
from tests.erpcore.documents_helpers import build_world, level


def purchase(session, world, quantity: int, price: str, submit: bool = False, requester: str = "zhang"):
    return orders.create_order(
        session, world.demo, kind="purchase", requester_user_id=world.users[requester],
        lines=[LineIn(world.items["X100"], quantity, price)], to_site_id=world.sites["WH1"], submit=submit,
    )


def trail_of(session, enterprise_id: int, order: orders.Order) -> list[tuple]:
    """The order's audit entries without what differs between two orders (number, id)."""
    def plain(snapshot):
        return None if snapshot is None else {k: v for k, v in snapshot.items() if k != "number"}

    return [(e.actor_user_id, e.action, plain(e.before), plain(e.after))
            for e in audit.history(session, enterprise_id, "order", order.id)]


@pytest.mark.parametrize("price", ["4000.00", "20000.00", "0.50"])
def test_an_order_submitted_at_creation_leaves_what_create_then_submit_leaves(session, world, price):
    approvals.set_rules(session, world.demo, "purchase", [(1, "1", "manager"), (2, "10000", "finance")])
    plain = purchase(session, world, 1, price)
    orders.submit(session, world.demo, plain, world.users["zhang"])
    at_once = purchase(session, world, 1, price, submit=True)
    columns = ("state", "approval_level", "awaiting_role", "total", "kind", "requester_user_id")
    assert [getattr(at_once, c) for c in columns] == [getattr(plain, c) for c in columns]
    assert trail_of(session, world.demo, at_once) == trail_of(session, world.demo, plain)
    assert len(trail_of(session, world.demo, at_once)) in (2, 3)  # create, submit (, auto approve)
    session.expire_all()
    assert session.get(orders.Order, at_once.id).state == plain.state


def test_an_order_submitted_at_creation_writes_its_audit_in_one_statement_and_knows_its_lines(
        session, world, statements):
    order = purchase(session, world, 2, "4000.00", submit=True)
    assert order.state == "pending_approval"
    assert sum(s.startswith("INSERT INTO audit_log") for s in statements) == 1
    statements.clear()
    assert [(line.item_id, line.quantity) for line in order.lines] == [(world.items["X100"], 2)]
    assert statements == []  # the lines came back with their INSERT


def test_approval_rules_are_read_once_per_transaction_until_they_change(session, world, statements):
    first = purchase(session, world, 1, "4000.00", submit=True)
    second = purchase(session, world, 1, "4000.00", submit=True)
    assert (first.awaiting_role, second.awaiting_role) == ("manager", "manager")
    assert sum("FROM approval_rules" in s for s in statements) == 1
    approvals.set_rules(session, world.demo, "purchase", [(1, "0", "finance")])
    third = purchase(session, world, 1, "4000.00", submit=True)
    assert third.awaiting_role == "finance"  # the change in this transaction counts at once
    approvals.set_rules(session, world.demo, "purchase", [])
    assert purchase(session, world, 1, "4000.00", submit=True).state == "approved"


def test_rules_remembered_for_one_enterprise_do_not_decide_anothers(session, world):
    approvals.set_rules(session, world.other, "purchase", [])  # OTHER approves purchases at once
    assert purchase(session, world, 1, "4000.00", submit=True).awaiting_role == "manager"  # DEMO's remembered
    other = orders.create_order(
        session, world.other, kind="purchase", requester_user_id=world.other_user,
        lines=[LineIn(session.scalar(select(Item.id).where(Item.enterprise_id == world.other, Item.sku == "X100")),
                      1, "4000.00")],
        to_site_id=session.scalar(select(Site.id).where(Site.enterprise_id == world.other, Site.code == "WH1")),
        submit=True,
    )
    assert (other.enterprise_id, other.state, other.awaiting_role) == (world.other, "approved", None)
    assert purchase(session, world, 1, "4000.00", submit=True).awaiting_role == "manager"


def test_a_fulfilment_puts_its_entries_in_the_callers_trail_only_when_it_succeeds(session, world):
    # A transfer of two lines: the second has no stock, so the first line's move is undone.
    order = orders.create_order(
        session, world.demo, kind="transfer", requester_user_id=world.users["smith"],
        lines=[LineIn(world.items["X100"], 1), LineIn(world.items["CHG1"], 10**5)],
        from_site_id=world.sites["WH1"], to_site_id=world.sites["HALL1"],
    )
    approvals.set_rules(session, world.demo, "transfer", [])
    orders.submit(session, world.demo, order, world.users["smith"])
    before = (level(session, world.items["X100"], world.sites["WH1"]), session.scalars(select(Movement.id)).all())
    entries = len(session.scalars(select(AuditEntry.id)).all())
    trail = audit.Trail(session, world.demo)
    with pytest.raises(InsufficientStock):
        orders.fulfil(session, world.demo, order, world.users["wang"], trail=trail)
    assert trail.rows == []
    assert (level(session, world.items["X100"], world.sites["WH1"]), session.scalars(select(Movement.id)).all()) \
        == before
    assert len(session.scalars(select(AuditEntry.id)).all()) == entries and order.state == "approved"


def test_a_fulfilment_into_the_callers_trail_is_written_by_the_caller_with_the_new_levels(session, world):
    order = purchase(session, world, 3, "4000.00", requester="smith")
    approvals.set_rules(session, world.demo, "purchase", [])
    orders.submit(session, world.demo, order, world.users["smith"])
    wh1 = level(session, world.items["X100"], world.sites["WH1"])
    trail, levels = audit.Trail(session, world.demo), {}
    trail.add(world.users["smith"], "test.first", "order", order.id, None, {"n": 1})
    orders.fulfil(session, world.demo, order, world.users["wang"], levels=levels, trail=trail)
    assert levels == {(world.items["X100"], world.sites["WH1"]): wh1 + 3}
    assert level(session, world.items["X100"], world.sites["WH1"]) == wh1 + 3
    assert [row["action"] for row in trail.rows] == ["test.first", "movement.receive", "order.fulfil"]
    assert [e.action for e in audit.history(session, world.demo, "order", order.id)][-1] != "order.fulfil"
    trail.write()
    assert [e.action for e in audit.history(session, world.demo, "order", order.id)][-2:] == [
        "test.first", "order.fulfil"]
    moved = session.scalars(select(Movement).where(Movement.reference == f"order:{order.number}")).one()
    entry = audit.history(session, world.demo, "movement", moved.id)[0]
    assert entry.after["number"] == moved.number == f"MV{moved.id:08d}"


def other_rows(session, world) -> tuple[Item, Site]:
    item = session.scalars(select(Item).where(Item.enterprise_id == world.other, Item.sku == "X100")).one()
    site = session.scalars(select(Site).where(Site.enterprise_id == world.other, Site.code == "WH1")).one()
    return item, site


def test_a_movement_refuses_another_tenants_site_or_item_the_session_already_holds(session, world):
    item, site = other_rows(session, world)  # loaded: in the session's identity map
    with pytest.raises(NotFound) as refused:
        movements.move(session, world.demo, kind="receive", item_id=world.items["X100"], quantity=1,
                       to_site_id=site.id)
    assert refused.value.code == "movement.site_not_found"
    with pytest.raises(NotFound) as refused:
        movements.move(session, world.demo, kind="receive", item_id=item.id, quantity=1,
                       to_site_id=world.sites["WH1"])
    assert refused.value.code == "movement.item_not_found"
    assert session.scalars(select(Movement.id)).all() == []


def test_a_movement_checks_held_sites_without_a_query_and_keeps_held_levels_current(session, world, statements):
    held_site = session.get(Site, world.sites["WH1"])
    held_level = session.scalars(select(StockLevel).where(
        StockLevel.item_id == world.items["X100"], StockLevel.site_id == held_site.id)).one()
    quantity = held_level.quantity
    statements.clear()
    moved = movements.make_movement(session, world.demo, kind="receive", item_id=world.items["X100"], quantity=4,
                                    to_site_id=held_site.id)
    assert not any(s.startswith("SELECT sites") for s in statements)
    assert moved.after == {held_site.id: quantity + 4}
    assert held_level.quantity == quantity + 4 == level(session, world.items["X100"], held_site.id)
    assert held_level.updated_at is not None  # expired by the UPDATE, read again


def test_a_document_number_in_steady_state_takes_one_statement(session, world, statements):
    assert orders.reserve_numbers(session, world.demo, 2) == ["1001", "1002"]  # creates the sequence
    statements.clear()
    assert orders.reserve_numbers(session, world.demo, 3) == ["1003", "1004", "1005"]
    assert len(statements) == 1 and statements[0].startswith("UPDATE document_sequences")
    assert orders.next_number(session, world.other) == "1001"


def test_stored_notifications_are_counted_and_a_key_stored_in_a_rolled_back_savepoint_is_free_again(
        session, world):
    note = events.Notification(world.demo, "13800000003", "你好", "hello", world.users["wang"], key="k-save")
    counted = notifications.stored_count(session)
    with pytest.raises(RuntimeError):
        with session.begin_nested():
            assert notifications.notify(session, note) is not None
            raise RuntimeError("the command refused")
    assert notifications.pending(session) == []
    stored = notifications.notify(session, note)
    assert stored is not None and (stored.key, stored.state, stored.urgent) == ("k-save", "pending", False)
    assert notifications.notify(session, note) is None
    assert notifications.stored_count(session) == counted + 2  # the rolled-back one counts: a wake too many
    assert [(n.id, n.text_en) for n in notifications.pending(session)] == [(stored.id, "hello")]


def test_a_notification_stored_by_another_transaction_is_not_stored_again(seeded):
    from erpcore.db import session_scope

    with session_scope(seeded) as session:
        world = build_world(session)
    note = events.Notification(world.demo, "13800000003", "a", "a", key="k-twice")
    with session_scope(seeded) as session:
        assert notifications.notify(session, note) is not None
    with session_scope(seeded) as session:
        assert notifications.notify(session, note) is None
        assert notifications.stored_count(session) == 0
        assert len(notifications.pending(session)) == 1


def test_money_stays_decimal_through_the_remembered_rules(session, world):
    approvals.set_rules(session, world.demo, "purchase", [(1, "100.01", "manager")])
    assert purchase(session, world, 1, "100.00", submit=True).state == "approved"
    at_threshold = purchase(session, world, 1, "100.01", submit=True)
    assert (at_threshold.state, at_threshold.total) == ("pending_approval", Decimal("100.01"))


def test_an_order_inserted_in_a_state_the_rules_do_not_give_is_corrected_by_its_submission(
        session, world, monkeypatch):
    wrong = {"state": "approved", "approval_level": None, "awaiting_role": None}
    monkeypatch.setattr(approvals, "opening", lambda *_args: dict(wrong))
    order = purchase(session, world, 1, "4000.00", submit=True)
    assert (order.state, order.awaiting_role) == ("pending_approval", "manager")
    session.expire_all()
    stored = session.get(orders.Order, order.id)
    assert (stored.state, stored.approval_level, stored.awaiting_role) == ("pending_approval", 1, "manager")


def test_numbers_of_several_enterprises_are_taken_in_one_statement(session, world, statements):
    """reserve_many: each enterprise its own consecutive numbers, one UPDATE for all whose
    sequence exists (plus, on MariaDB, one read of the new values); an enterprise
    without a sequence yet gets one."""
    orders.reserve_numbers(session, world.demo, 2)  # demo's sequence exists, OTHER's not yet
    assert orders.reserve_many(session, {world.demo: 3, world.other: 2}) == {
        world.demo: ["1003", "1004", "1005"], world.other: ["1001", "1002"]}
    statements.clear()
    assert orders.reserve_many(session, {world.other: 1, world.demo: 2}) == {
        world.demo: ["1006", "1007"], world.other: ["1003"]}
    updates = [s for s in statements if s.startswith("UPDATE document_sequences")]
    assert len(updates) == 1
    assert len(statements) == (1 if session.get_bind().dialect.name == "sqlite" else 2)
    assert orders.reserve_many(session, {world.demo: 0}) == {}


def test_the_first_numbers_of_several_enterprises_make_their_sequences_in_one_insert(session, world, statements):
    assert orders.reserve_many(session, {world.demo: 2, world.other: 1}) == {
        world.demo: ["1001", "1002"], world.other: ["1001"]}
    assert sum(s.startswith("INSERT INTO document_sequences") for s in statements) == 1
    assert orders.reserve_many(session, {world.demo: 1, world.other: 1}) == {
        world.demo: ["1003"], world.other: ["1002"]}
