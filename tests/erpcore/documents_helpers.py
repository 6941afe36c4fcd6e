"""The world of the orders/alerts/tasks/sharing tests: the demo enterprise (clerk zhang,
manager smith, storekeeper wang) plus a finance officer li and a second clerk chen, and
tenant OTHER; every business module open for both."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from erpcore import approvals, services
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.tenants import Enterprise
from erpcore.users import User


@dataclass
class World:
    demo: int
    other: int
    users: dict[str, int]  # demo users by username
    other_user: int  # OTHER's only user
    items: dict[str, int]  # demo items by SKU
    sites: dict[str, int]  # demo sites by code


def build_world(session) -> World:
    demo = session.scalars(select(Enterprise).where(Enterprise.code == "DEMO")).one()
    other = session.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one()
    session.add_all([
        User(enterprise_id=demo.id, username="li", display_name="李财务", msisdn="13800000004", role="finance"),
        User(enterprise_id=demo.id, username="chen", display_name="陈", msisdn="13800000005", role="clerk"),
    ])
    session.flush()
    for enterprise in (demo, other):
        services.ensure_open(session, enterprise.id)
    approvals.install_default_rules(session, demo.id)
    users = {u.username: u.id for u in session.scalars(select(User).where(User.enterprise_id == demo.id))}
    other_user = session.scalars(select(User.id).where(User.enterprise_id == other.id)).one()
    items = {i.sku: i.id for i in session.scalars(select(Item).where(Item.enterprise_id == demo.id))}
    sites = {s.code: s.id for s in session.scalars(select(Site).where(Site.enterprise_id == demo.id))}
    return World(demo.id, other.id, users, other_user, items, sites)


def level(session, item_id: int, site_id: int) -> int:
    session.flush()
    found = session.scalar(select(StockLevel.quantity).where(
        StockLevel.item_id == item_id, StockLevel.site_id == site_id))
    return int(found or 0)
