"""One read of an enterprise's pending documents answers every user's list exactly as
``approvals.pending_for`` does: the same documents in the same order, the same refusal
for a user who is not an active user of the enterprise, nothing for one who may not
approve, and nothing of another tenant's."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, select

from erpcore import approvals, orders, services
from erpcore.errors import NotFound
from erpcore.items import Item
from erpcore.orders import LineIn, Order
from erpcore.rbac import UserRole
from erpcore.sites import Site
from erpcore.tenants import Enterprise
from erpcore.users import User
from tests.erpcore.documents_helpers import build_world


def _user(session, enterprise_id: int, username: str, role: str, **kw) -> int:
    user = User(enterprise_id=enterprise_id, username=username, display_name=username.title(), role=role, **kw)
    session.add(user)
    session.flush()
    return user.id


def _order(session, enterprise_id: int, requester: int, item: int, site: int, quantity: int, price: str,
           kind: str = "purchase", submit: bool = True) -> str:
    where = {"to_site_id": site} if kind == "purchase" else {"from_site_id": site}
    order = orders.create_order(session, enterprise_id, kind=kind, requester_user_id=requester,
                                lines=[LineIn(item, quantity, price)], **where)
    if submit:
        orders.submit(session, enterprise_id, order.number, requester)
    return order.number


@pytest.fixture
def tenants(session):
    """Three enterprises whose users differ in role, extra roles, site and state, with
    documents at every stage: DEMO (default rules: a manager, then finance from 10,000),
    OTHER (a manager decides) and THIRD (only an admin decides)."""
    world = build_world(session)
    demo, other = world.demo, world.other
    u = dict(world.users)
    wh1, x100 = world.sites["WH1"], world.items["X100"]
    u["mgr2"] = _user(session, demo, "mgr2", "manager", site_id=world.sites["HALL1"])
    u["fin_clerk"] = _user(session, demo, "fin_clerk", "clerk")
    u["mgr_fin"] = _user(session, demo, "mgr_fin", "manager")
    u["gone"] = _user(session, demo, "gone", "manager", active=False)
    session.add_all([
        UserRole(enterprise_id=demo, user_id=u["fin_clerk"], role="finance"),
        UserRole(enterprise_id=demo, user_id=u["mgr_fin"], role="finance"),
        # An extra role recorded under another tenant grants nothing here (rbac.roles_of).
        UserRole(enterprise_id=other, user_id=u["chen"], role="manager"),
    ])
    session.flush()

    small = _order(session, demo, u["zhang"], x100, wh1, 1, "100.00")
    big = _order(session, demo, u["zhang"], x100, wh1, 3, "4000.00")
    approvals.approve(session, demo, big, u["mgr_fin"], "level 1")  # now awaits finance
    smiths = _order(session, demo, u["smith"], x100, wh1, 1, "100.00")
    rejected = _order(session, demo, u["zhang"], x100, wh1, 1, "100.00")
    approvals.reject(session, demo, rejected, u["smith"], "no")
    _order(session, demo, u["zhang"], x100, wh1, 1, "100.00", submit=False)  # a draft
    _order(session, demo, u["zhang"], world.items["N200"], world.sites["HALL1"], 1, "200.00", kind="sales")
    mgr2s = _order(session, demo, u["mgr2"], x100, wh1, 2, "6000.00")
    approvals.approve(session, demo, mgr2s, u["smith"], "level 1")

    approvals.set_rules(session, other, "purchase", [(1, "0", "manager")])
    boss = _user(session, other, "boss", "manager")
    o_item = session.scalars(select(Item.id).where(Item.enterprise_id == other, Item.sku == "X100")).one()
    o_site = session.scalars(select(Site.id).where(Site.enterprise_id == other, Site.code == "WH1")).one()
    _order(session, other, world.other_user, o_item, o_site, 1, "1.00")

    third = Enterprise(code="THIRD", name="第三", extension="03", lang="en")
    session.add(third)
    session.flush()
    services.ensure_open(session, third.id)
    approvals.set_rules(session, third.id, "purchase", [(1, "0", "admin")])
    t_site = Site(enterprise_id=third.id, code="WH1", name="仓", kind="warehouse")
    t_item = Item(enterprise_id=third.id, sku="X100", name="X100", unit_price=Decimal("1.00"))
    session.add_all([t_site, t_item])
    session.flush()
    t_admin = _user(session, third.id, "tadmin", "admin")
    t_manager = _user(session, third.id, "tmanager", "manager")
    t_clerk = _user(session, third.id, "tclerk", "clerk")
    _order(session, third.id, t_clerk, t_item.id, t_site.id, 1, "5.00")
    _order(session, third.id, t_admin, t_item.id, t_site.id, 1, "5.00")
    session.flush()
    return {"enterprises": (demo, other, third.id), "users": u, "boss": boss, "third": (t_admin, t_manager),
            "numbers": {"small": small, "big": big, "smiths": smiths, "mgr2s": mgr2s}}


def _outcome(list_for, user_id):
    try:
        return [o.number for o in list_for(user_id)]
    except NotFound as refused:
        return ("refused", refused.code)


def test_every_users_list_from_the_shared_read_is_the_one_pending_for_gives(session, tenants):
    every_user = list(session.scalars(select(User.id)))
    outcomes = []
    for enterprise_id in tenants["enterprises"]:
        shared = approvals.pending_in_enterprise(session, enterprise_id)
        # (Not True: pending_for takes it for user 1 once user 1 is in the transaction's
        # memo, as True == 1, and refuses it before; for_user always refuses it.)
        for user_id in [*every_user, 10**9, "1"]:
            expected = _outcome(lambda uid: approvals.pending_for(session, enterprise_id, uid), user_id)
            assert _outcome(shared.for_user, user_id) == expected, (enterprise_id, user_id)
            outcomes.append((enterprise_id, expected))
    lists = {(e, tuple(o)) for e, o in outcomes if isinstance(o, list) and o}
    assert len(lists) >= 5, "the world must give users different, non-empty lists"
    assert set(tenants["enterprises"]) <= {e for e, _o in lists}, "someone in each enterprise has documents"
    assert any(o == [] for _e, o in outcomes) and any(o == ("refused", "user.not_found") for _e, o in outcomes)


def test_the_lists_follow_roles_decisions_and_tenants(session, tenants):
    """The cases the comparison above must cover, pinned by name."""
    demo, other, third = tenants["enterprises"]
    u, n = tenants["users"], tenants["numbers"]
    shared = approvals.pending_in_enterprise(session, demo)
    assert [d.number for d in shared.for_user(u["smith"])] == [n["small"]]  # not his own
    assert [d.number for d in shared.for_user(u["mgr2"])] == [n["small"], n["smiths"]]  # site plays no part
    assert [d.number for d in shared.for_user(u["li"])] == [n["big"], n["mgr2s"]]  # finance level
    assert [d.number for d in shared.for_user(u["fin_clerk"])] == [n["big"], n["mgr2s"]]  # extra role
    # Manager and finance, but decided the first level of the big order: never the second.
    assert [d.number for d in shared.for_user(u["mgr_fin"])] == [n["small"], n["smiths"], n["mgr2s"]]
    assert shared.for_user(u["zhang"]) == [] and shared.for_user(u["chen"]) == []  # may not approve
    for outsider in (u["gone"], tenants["boss"], tenants["third"][0], 10**9, True):
        with pytest.raises(NotFound):
            shared.for_user(outsider)
    t_admin, t_manager = tenants["third"]
    third_read = approvals.pending_in_enterprise(session, third)
    assert len(third_read.for_user(t_admin)) == 1 and third_read.for_user(t_manager) == []
    other_read = approvals.pending_in_enterprise(session, other)
    assert [d.number for d in other_read.for_user(tenants["boss"])] == ["1001"]


def test_the_shared_read_shows_what_the_orders_hold(session, tenants):
    demo = tenants["enterprises"][0]
    shared = approvals.pending_in_enterprise(session, demo)
    rows = {o.id: o for o in session.scalars(select(Order).where(Order.enterprise_id == demo))}
    assert [d.id for d in shared.documents] == sorted(
        o.id for o in rows.values() if o.state == "pending_approval")
    for d in shared.documents:
        o = rows[d.id]
        assert (d.number, d.kind, d.state, d.total, d.requester_user_id, d.awaiting_role, d.created_at) == (
            o.number, o.kind, o.state, o.total, o.requester_user_id, o.awaiting_role, o.created_at)
        assert shared.names[d.requester_user_id] == session.get(User, d.requester_user_id).display_name


def test_one_read_costs_the_same_few_queries_however_many_approvers(session, tenants):
    demo = tenants["enterprises"][0]
    engine = session.get_bind()
    statements = []

    def count(*_args):
        statements.append(1)

    def queries() -> int:
        statements.clear()
        session.flush()
        event.listen(engine, "before_cursor_execute", count)
        try:
            approvals.pending_in_enterprise(session, demo)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    few = queries()
    for i in range(30):
        _user(session, demo, f"extra{i}", "manager")
    assert queries() == few <= 4
