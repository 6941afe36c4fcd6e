"""The world of the WAP tests: the demo enterprise with passwords, six purchase orders of
clerk zhang waiting for manager smith (one with a hostile note), and tenant OTHER whose
own manager and order 1001 must never mix with DEMO's."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from erpcore import approvals, auth, orders, services
from erpcore.demo import seed_demo
from erpcore.items import Item
from erpcore.orders import LineIn
from erpcore.sites import Site
from erpcore.tenants import Enterprise
from erpcore.users import User

PASSWORDS = {"smith": "smith-pass", "zhang": "zhang-pass", "boss": "boss-pass"}
HOSTILE = "ok <b>&amp; $(pw) $x & < $"


@dataclass
class World:
    demo: int
    other: int
    users: dict[str, int]
    numbers: list[str]  # DEMO's pending orders, oldest first


def build(session) -> World:
    demo = seed_demo(session)
    other = Enterprise(code="OTHER", name="别家公司", name_en="Other Co", extension="02", lang="en")
    session.add(other)
    session.flush()
    o_site = Site(enterprise_id=other.id, code="WH1", name="别家仓库", kind="warehouse")
    o_item = Item(enterprise_id=other.id, sku="X100", name="别家X100", unit_price=Decimal("1.00"))
    boss = User(enterprise_id=other.id, username="boss", display_name="Other Boss", role="manager")
    o_clerk = User(enterprise_id=other.id, username="olga", display_name="Olga", role="clerk")
    session.add_all([o_site, o_item, boss, o_clerk])
    session.flush()
    for enterprise in (demo, other):
        services.ensure_open(session, enterprise.id)
        # One level, whatever the demo seed's defaults are today: the manager decides.
        approvals.set_rules(session, enterprise.id, "purchase", [(1, "0", "manager")])
    users = {u.username: u for u in session.scalars(select(User).where(User.enterprise_id == demo.id))}
    users["boss"] = boss
    for name, password in PASSWORDS.items():
        auth.set_password(session, users[name], password)
    x100 = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "X100")).one()
    wh1 = session.scalars(select(Site).where(Site.enterprise_id == demo.id, Site.code == "WH1")).one()
    numbers = []
    for i in range(6):
        order = orders.create_order(
            session, demo.id, kind="purchase", requester_user_id=users["zhang"].id,
            lines=[LineIn(x100.id, 1 + i, "100.00")], to_site_id=wh1.id,
            note=HOSTILE if i == 0 else None,
        )
        orders.submit(session, demo.id, order.number, users["zhang"].id)
        numbers.append(order.number)
    theirs = orders.create_order(session, other.id, kind="purchase", requester_user_id=o_clerk.id,
                                 lines=[LineIn(o_item.id, 1, "1.00")], to_site_id=o_site.id)
    orders.submit(session, other.id, theirs.number, o_clerk.id)
    return World(demo.id, other.id, {n: u.id for n, u in users.items()}, numbers)
