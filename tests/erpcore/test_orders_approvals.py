"""Orders and their approval, as seed 002/003 describe them: a purchase over the threshold
needs a manager and then finance, nobody approves their own order, a rejection says why,
and an approved order is fulfilled by moving stock."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erpcore import approvals, events, orders, partners
from erpcore.audit import AuditEntry
from erpcore.errors import NotFound, PermissionDenied
from erpcore.orders import LineIn
from tests.erpcore.documents_helpers import build_world, level


@pytest.fixture
def published():
    """Every ApprovalRequested / DocumentDecided published during the test."""
    seen: list = []

    def handler(_session, event):
        seen.append(event)

    events.subscribe(events.ApprovalRequested, handler)
    events.subscribe(events.DocumentDecided, handler)
    yield seen
    for kind in (events.ApprovalRequested, events.DocumentDecided):
        events._handlers[kind].remove(handler)


def audit_count(session, enterprise_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.enterprise_id == enterprise_id))


def purchase(session, world, quantity: int, price: str = "4000.00", requester: str = "smith"):
    return orders.create_order(
        session, world.demo, kind="purchase", requester_user_id=world.users[requester],
        lines=[LineIn(world.items["X100"], quantity, price)], to_site_id=world.sites["WH1"],
    )


def test_an_order_gets_a_short_number_unique_in_its_enterprise(session, world):
    first = purchase(session, world, 1)
    second = purchase(session, world, 1)
    assert (first.number, second.number) == ("1001", "1002")
    assert first.state == "draft"
    assert orders.next_number(session, world.other) == "1001"  # OTHER's own sequence


def test_lines_are_priced_in_decimal_with_the_items_list_price_by_default(session, world):
    order = orders.create_order(
        session, world.demo, kind="sales", requester_user_id=world.users["zhang"],
        lines=[LineIn(world.items["N200"], 3), LineIn(world.items["CHG1"], 2, "70.555")],
        from_site_id=world.sites["HALL1"],
    )
    assert [(line.unit_price, line.amount) for line in order.lines] == [
        (Decimal("299.00"), Decimal("897.00")), (Decimal("70.56"), Decimal("141.12"))]
    assert order.total == Decimal("1038.12")


@pytest.mark.parametrize("bad", [
    dict(kind="gift"),
    dict(lines=[]),
    dict(lines=[LineIn(10**9, 1)]),
    dict(lines=["X100"]),
    dict(quantity=0),
    dict(quantity=-3),
    dict(quantity=True),
    dict(price="abc"),
    dict(price="-1"),
    dict(price="1e30"),
    dict(price="NaN"),
    dict(price="9999999999.99", quantity=1000),
    dict(to_site_id=None),
    dict(from_site_id="WH1"),
])
def test_bad_orders_are_refused_with_a_clear_code_and_nothing_is_stored(session, world, bad):
    kw = dict(kind="purchase", requester_user_id=world.users["smith"], to_site_id=world.sites["WH1"])
    bad = dict(bad)  # the parameter is shared by the sqlite and mysql runs
    quantity, price = bad.pop("quantity", 1), bad.pop("price", None)
    if "from_site_id" in bad:
        bad["from_site_id"] = world.sites[bad["from_site_id"]]
    kw["lines"] = [LineIn(world.items["X100"], quantity, price)]
    kw.update(bad)
    with pytest.raises(orders.InvalidOrder) as caught:
        orders.create_order(session, world.demo, **kw)
    assert caught.value.code.startswith("order.")
    assert orders.count_orders(session, world.demo) == 0


def test_a_storekeeper_may_not_create_orders(session, world):
    with pytest.raises(PermissionDenied):
        purchase(session, world, 1, requester="wang")


def test_a_purchase_over_the_threshold_needs_a_manager_then_finance_and_is_fulfilled(session, world, published):
    """Seed 002: ¥12,000 of handsets: the manager approves, then finance; the storekeeper
    receives them into the warehouse."""
    order = orders.create_order(
        session, world.demo, kind="purchase", requester_user_id=world.users["zhang"],
        lines=[LineIn(world.items["X100"], 3, "4000.00")], to_site_id=world.sites["WH1"],
    )
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    assert (order.state, order.awaiting_role) == ("pending_approval", "manager")
    assert published[-1].approver_user_ids == (world.users["smith"],)
    assert [o.number for o in approvals.pending_for(session, world.demo, world.users["smith"])] == [order.number]
    assert approvals.pending_for(session, world.demo, world.users["li"]) == []

    approvals.approve(session, world.demo, order.number, world.users["smith"], "ok")
    assert (order.state, order.awaiting_role) == ("pending_approval", "finance")
    assert published[-1].approver_user_ids == (world.users["li"],)
    assert approvals.pending_for(session, world.demo, world.users["smith"]) == []
    with pytest.raises(orders.IllegalTransition):
        orders.fulfil(session, world.demo, order.number, world.users["wang"])

    approvals.approve(session, world.demo, order.number, world.users["li"])
    assert order.state == "approved"
    decided = published[-1]
    assert isinstance(decided, events.DocumentDecided)
    assert (decided.state, decided.requester_user_id, decided.decided_by_user_id) == (
        "approved", world.users["zhang"], world.users["li"])
    assert [(s.level, s.role, s.decision) for s in approvals.steps(session, world.demo, order.number)] == [
        (1, "manager", "approved"), (2, "finance", "approved")]

    before = level(session, world.items["X100"], world.sites["WH1"])
    orders.fulfil(session, world.demo, order.number, world.users["wang"])
    assert order.state == "fulfilled"
    assert level(session, world.items["X100"], world.sites["WH1"]) == before + 3
    trail = [(entry.action, entry.actor_user_id) for entry in orders.history(session, world.demo, order.number)]
    assert trail == [
        ("order.create", world.users["zhang"]), ("order.submit", world.users["zhang"]),
        ("approval.approve", world.users["smith"]), ("order.approve", world.users["li"]),
        ("order.fulfil", world.users["wang"]),
    ]


def test_a_purchase_under_the_threshold_needs_the_manager_only(session, world):
    order = purchase(session, world, 1, requester="zhang")
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    approvals.approve(session, world.demo, order.number, world.users["smith"])
    assert order.state == "approved"


def test_an_order_no_rule_covers_is_approved_on_submission(session, world, published):
    order = orders.create_order(
        session, world.demo, kind="transfer", requester_user_id=world.users["zhang"],
        lines=[LineIn(world.items["CHG1"], 5)], from_site_id=world.sites["WH1"], to_site_id=world.sites["HALL2"],
    )
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    assert order.state == "approved"
    assert published[-1].state == "approved"
    orders.fulfil(session, world.demo, order.number, world.users["wang"])
    assert level(session, world.items["CHG1"], world.sites["HALL2"]) == 30


def test_nobody_approves_their_own_order(session, world):
    order = purchase(session, world, 1)  # requested by the manager
    orders.submit(session, world.demo, order.number, world.users["smith"])
    assert approvals.pending_for(session, world.demo, world.users["smith"]) == []
    with pytest.raises(approvals.SelfApproval) as caught:
        approvals.approve(session, world.demo, order.number, world.users["smith"])
    assert caught.value.code == "approval.self"
    assert order.state == "pending_approval" and approvals.steps(session, world.demo, order.number) == []


def test_one_person_holding_both_roles_cannot_approve_both_levels(session, world):
    from erpcore import rbac
    from erpcore.users import User

    rbac.grant_role(session, session.get(User, world.users["smith"]), "finance")
    order = purchase(session, world, 3, requester="zhang")
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    approvals.approve(session, world.demo, order.number, world.users["smith"])
    assert approvals.pending_for(session, world.demo, world.users["smith"]) == []
    with pytest.raises(approvals.SelfApproval):
        approvals.approve(session, world.demo, order.number, world.users["smith"])
    approvals.approve(session, world.demo, order.number, world.users["li"])
    assert order.state == "approved"


def test_a_user_without_the_awaited_role_cannot_approve(session, world):
    order = purchase(session, world, 3, requester="zhang")
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    with pytest.raises(approvals.NotApprover):
        approvals.approve(session, world.demo, order.number, world.users["li"])  # finance before manager
    with pytest.raises(PermissionDenied):
        approvals.approve(session, world.demo, order.number, world.users["chen"])  # a clerk
    assert order.awaiting_role == "manager"


def test_a_rejection_needs_a_reason_and_ends_the_order(session, world, published):
    order = purchase(session, world, 3, requester="zhang")
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    for blank in ("", "   ", None):
        with pytest.raises(approvals.ReasonRequired):
            approvals.reject(session, world.demo, order.number, world.users["smith"], blank)
    assert order.state == "pending_approval"
    approvals.reject(session, world.demo, order.number, world.users["smith"], "太贵了")
    assert order.state == "rejected"
    assert (published[-1].state, published[-1].comment) == ("rejected", "太贵了")
    step, = approvals.steps(session, world.demo, order.number)
    assert (step.decision, step.comment) == ("rejected", "太贵了")
    with pytest.raises(orders.IllegalTransition):
        approvals.approve(session, world.demo, order.number, world.users["smith"])


@pytest.mark.parametrize("path, illegal", [
    ([], "fulfil"),
    (["submit"], "submit"),
    (["submit", "reject"], "cancel"),
    (["submit", "approve"], "submit"),
    (["cancel"], "submit"),
])
def test_illegal_transitions_raise_a_stable_code(session, world, path, illegal):
    order = purchase(session, world, 1, requester="zhang")
    n, zhang, smith, wang = order.number, world.users["zhang"], world.users["smith"], world.users["wang"]
    steps = {
        "submit": lambda: orders.submit(session, world.demo, n, zhang),
        "approve": lambda: approvals.approve(session, world.demo, n, smith),
        "reject": lambda: approvals.reject(session, world.demo, n, smith, "no"),
        "cancel": lambda: orders.cancel(session, world.demo, n, zhang),
        "fulfil": lambda: orders.fulfil(session, world.demo, n, wang),
    }
    for step in path:
        steps[step]()
    state = order.state
    with pytest.raises(orders.IllegalTransition) as caught:
        steps[illegal]()
    assert caught.value.code == "order.illegal_transition"
    assert order.state == state


def test_only_the_requester_or_a_manager_cancels(session, world):
    order = purchase(session, world, 1, requester="zhang")
    with pytest.raises(PermissionDenied):
        orders.cancel(session, world.demo, order.number, world.users["chen"])
    orders.cancel(session, world.demo, order.number, world.users["smith"], "供应商缺货")
    assert (order.state, order.note) == ("cancelled", "供应商缺货")


def test_fulfilment_without_enough_stock_moves_nothing(session, world):
    from erpcore.movements import InsufficientStock

    order = orders.create_order(
        session, world.demo, kind="transfer", requester_user_id=world.users["zhang"],
        lines=[LineIn(world.items["C300"], 2), LineIn(world.items["N200"], 50)],
        from_site_id=world.sites["HALL1"], to_site_id=world.sites["HALL2"],
    )
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    assert order.state == "approved"
    with pytest.raises(InsufficientStock):
        orders.fulfil(session, world.demo, order.number, world.users["smith"])
    assert order.state == "approved"
    assert level(session, world.items["C300"], world.sites["HALL1"]) == 3
    assert level(session, world.items["C300"], world.sites["HALL2"]) == 0


def test_partner_scores_come_from_fulfilled_orders(session, world):
    supplier = partners.add_partner(session, world.demo, kind="supplier", code="hw", name="华为分销")
    clock = iter([datetime(2026, 3, 1, 10), datetime(2026, 3, 9, 10)])
    numbers = []
    for due in (date(2026, 3, 5), date(2026, 3, 5)):
        order = orders.create_order(
            session, world.demo, kind="purchase", requester_user_id=world.users["zhang"],
            lines=[LineIn(world.items["CHG1"], 10, "50")], to_site_id=world.sites["WH1"],
            partner_id=supplier.id, due_date=due,
        )
        orders.submit(session, world.demo, order.number, world.users["zhang"])
        approvals.approve(session, world.demo, order.number, world.users["smith"])
        orders.fulfil(session, world.demo, order.number, world.users["wang"], now=lambda: next(clock))
        numbers.append(order.number)
    back = orders.create_order(
        session, world.demo, kind="return", requester_user_id=world.users["zhang"],
        lines=[LineIn(world.items["CHG1"], 2, "50")], to_site_id=world.sites["WH1"], partner_id=supplier.id,
    )
    orders.submit(session, world.demo, back.number, world.users["zhang"])
    approvals.approve(session, world.demo, back.number, world.users["smith"])
    orders.fulfil(session, world.demo, back.number, world.users["wang"])

    score = partners.evaluate(session, world.demo, "HW")
    assert (score.fulfilled_orders, score.due_orders, score.on_time_orders) == (2, 2, 1)
    assert score.on_time_rate == Decimal("0.5000")
    assert (score.delivered_quantity, score.returned_quantity, score.return_rate) == (20, 2, Decimal("0.1000"))


def test_a_partner_without_orders_has_no_rates_yet(session, world):
    partners.add_partner(session, world.demo, kind="agent", code="A1", name="代理一")
    score = partners.evaluate(session, world.demo, "a1")
    assert score.on_time_rate is None and score.return_rate is None
    with pytest.raises(partners.DuplicatePartner):
        partners.add_partner(session, world.demo, kind="agent", code="a1", name="again")


def test_a_sales_order_cannot_name_a_supplier(session, world):
    supplier = partners.add_partner(session, world.demo, kind="supplier", code="S1", name="供应商")
    with pytest.raises(orders.InvalidOrder):
        orders.create_order(
            session, world.demo, kind="sales", requester_user_id=world.users["zhang"],
            lines=[LineIn(world.items["N200"], 1)], from_site_id=world.sites["HALL1"], partner_id=supplier.id,
        )


# --- tenant isolation: another tenant's numbers, ids and users are simply not there ---

def test_another_tenants_order_number_is_not_found_anywhere(session, world):
    order = purchase(session, world, 3, requester="zhang")
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    n, other, other_user = order.number, world.other, world.other_user
    trail = audit_count(session, other)
    calls = [
        lambda: orders.get_order(session, other, n),
        lambda: orders.order_by_id(session, other, order.id),
        lambda: orders.submit(session, other, n, other_user),
        lambda: orders.cancel(session, other, n, other_user),
        lambda: orders.fulfil(session, other, n, other_user),
        lambda: orders.history(session, other, n),
        lambda: approvals.approve(session, other, n, other_user),
        lambda: approvals.reject(session, other, n, other_user, "no"),
        lambda: approvals.steps(session, other, n),
    ]
    for call in calls:
        with pytest.raises(orders.OrderNotFound):
            call()
    assert approvals.pending_for(session, other, other_user) == []
    assert (order.state, order.awaiting_role) == ("pending_approval", "manager")
    assert audit_count(session, other) == trail


def test_a_user_of_another_tenant_cannot_act_on_this_tenants_order(session, world):
    order = purchase(session, world, 1, requester="zhang")
    orders.submit(session, world.demo, order.number, world.users["zhang"])
    with pytest.raises(NotFound):
        approvals.approve(session, world.demo, order.number, world.other_user)
    with pytest.raises(NotFound):
        approvals.pending_for(session, world.demo, world.other_user)
    with pytest.raises(NotFound):
        orders.create_order(session, world.demo, kind="purchase", requester_user_id=world.other_user,
                            lines=[LineIn(world.items["X100"], 1)], to_site_id=world.sites["WH1"])
    assert order.state == "pending_approval"


def test_another_tenants_items_sites_and_partners_cannot_be_ordered(session, world):
    theirs = partners.add_partner(session, world.other, kind="supplier", code="S9", name="their supplier")
    their_order_kw = dict(kind="purchase", requester_user_id=world.users["zhang"])
    from erpcore.items import Item
    from erpcore.sites import Site

    other_item = session.scalars(select(Item.id).where(Item.enterprise_id == world.other)).first()
    other_site = session.scalars(select(Site.id).where(Site.enterprise_id == world.other)).first()
    for lines, site, partner in (
        ([LineIn(other_item, 1)], world.sites["WH1"], None),
        ([LineIn(world.items["X100"], 1)], other_site, None),
        ([LineIn(world.items["X100"], 1)], world.sites["WH1"], theirs.id),
    ):
        with pytest.raises(orders.InvalidOrder):
            orders.create_order(session, world.demo, lines=lines, to_site_id=site, partner_id=partner, **their_order_kw)
    with pytest.raises(partners.PartnerNotFound):
        partners.evaluate(session, world.demo, "S9")
    assert orders.count_orders(session, world.demo) == 0


def test_rules_are_per_enterprise(session, world):
    assert approvals.rules_for(session, world.other, "purchase") == []
    approvals.set_rules(session, world.other, "purchase", [(1, "100", "finance")])
    assert [(r.level, r.role) for r in approvals.rules_for(session, world.demo, "purchase")] == [
        (1, "manager"), (2, "finance")]
    for bad in ([(1, "0", "manager"), (1, "5", "finance")], [(1, "0", "clerk")], [(0, "0", "manager")],
                [(1, "lots", "manager")], [(1, "-1", "manager")], ["manager"]):
        with pytest.raises(approvals.InvalidRule):
            approvals.set_rules(session, world.demo, "purchase", bad)
    with pytest.raises(Exception) as caught:
        approvals.set_rules(session, world.demo, "purchase", [(1, "0", "boss")])
    assert caught.value.code == "rbac.unknown_role"


# --- batches: the same rules, all or none ---

def draft(world, quantity: int = 1, requester: str = "zhang") -> orders.Draft:
    return orders.Draft("purchase", world.users[requester], [LineIn(world.items["CHG1"], quantity, "50")],
                        to_site_id=world.sites["WH1"])


def test_a_batch_with_one_bad_draft_creates_nothing_and_takes_no_number(session, world):
    with pytest.raises(orders.InvalidOrder):
        orders.create_orders(session, world.demo, [draft(world), draft(world, quantity=0), draft(world)])
    assert orders.count_orders(session, world.demo) == 0
    assert [o.number for o in orders.create_orders(session, world.demo, [draft(world), draft(world)])] == [
        "1001", "1002"]


def test_approving_a_batch_stops_at_the_first_order_that_may_not_be_approved(session, world):
    mine = orders.create_orders(session, world.demo, [draft(world), draft(world, requester="smith")])
    orders.submit(session, world.demo, mine[0].number, world.users["zhang"])
    orders.submit(session, world.demo, mine[1].number, world.users["smith"])
    with pytest.raises(approvals.SelfApproval):
        approvals.approve_many(session, world.demo, [o.number for o in mine], world.users["smith"])
    assert [o.state for o in mine] == ["pending_approval", "pending_approval"]
    assert approvals.steps(session, world.demo, mine[0].number) == []


def test_batch_results_are_what_a_fresh_session_reads(seeded):
    """apply() writes one UPDATE per group and sets the objects directly: the database
    must agree with them."""
    from erpcore.db import session_scope

    with session_scope(seeded) as session:
        world = build_world(session)
        made = orders.create_orders(session, world.demo, [draft(world, 10), draft(world, 300)])
        orders.submit_many(session, world.demo, made, world.users["zhang"])
        approvals.approve_many(session, world.demo, made, world.users["smith"])
        seen = [(o.number, o.state, o.approval_level, o.awaiting_role) for o in made]
    with session_scope(seeded) as session:
        again = orders.get_orders(session, world.demo, [n for n, *_ in seen])
        assert [(o.number, o.state, o.approval_level, o.awaiting_role) for o in again] == seen
    assert seen[0][1:] == ("approved", None, None) and seen[1][1:] == ("pending_approval", 2, "finance")


def test_another_tenants_order_object_cannot_stand_in_for_a_number(session, world):
    made = orders.create_orders(session, world.demo, [draft(world)])
    with pytest.raises(orders.OrderNotFound):
        orders.submit_many(session, world.other, made, world.other_user)
    assert made[0].state == "draft"


def test_concurrent_writers_never_share_a_number(seeded):
    """Two transactions creating orders at once: the sequence row lock hands out distinct,
    gap-free numbers."""
    import threading

    from erpcore.db import session_scope

    with session_scope(seeded) as session:
        world = build_world(session)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def writer():
        try:
            for _ in range(5):
                with session_scope(seeded) as session:
                    numbers.extend(o.number for o in orders.create_orders(session, world.demo, [draft(world)] * 4))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers, key=int) == [str(n) for n in range(1001, 1001 + 60)]


def test_a_closed_orders_module_refuses_new_orders(session, world):
    from erpcore import services

    services.close_service(session, world.demo, "orders")
    with pytest.raises(services.ServiceClosed) as caught:
        purchase(session, world, 1, requester="zhang")
    assert caught.value.code == "service.closed"
    assert orders.count_orders(session, world.demo) == 0
