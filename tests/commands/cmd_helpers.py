"""Shared setup of the per-command tests: the demo world with a finance user, a task, a
handset and a PIN, and readers of what a command left behind."""
from __future__ import annotations

from sqlalchemy import select

from erpcore import auth, services, tasks
from erpcore.db import session_scope
from erpcore.notifications import StoredNotification
from erpcore.orders import Order
from erpcore.stock import StockLevel
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.tenants import Enterprise
from erpcore.users import User

CLERK = "13800000001"  # zh, HALL1
MANAGER = "13800000002"  # en, no site
KEEPER = "13800000003"  # zh, WH1
OTHER = "13900000099"  # the other tenant's user
FINANCE = "13800000006"  # zh, finance (only where the ``finance`` fixture adds them)
PIN = "246810"  # the manager's PIN in ``send_pin``


def demo(session) -> Enterprise:
    return session.scalars(select(Enterprise).where(Enterprise.code == "DEMO")).one()


def user(session, msisdn: str) -> User:
    return session.scalars(select(User).where(User.msisdn == msisdn)).one()


def in_db(sessionmaker, fn):
    with session_scope(sessionmaker) as session:
        return fn(session)


def set_pin(sessionmaker, msisdn: str, pin: str) -> None:
    in_db(sessionmaker, lambda s: auth.set_password(s, user(s, msisdn), pin))


def close(sessionmaker, module: str) -> None:
    in_db(sessionmaker, lambda s: services.close_service(s, demo(s).id, module))


def give_task(sessionmaker, msisdn: str = KEEPER, text: str = "fix the till") -> int:
    def run(s):
        who = user(s, msisdn)
        tasks.report_status(s, who.enterprise_id, who.id, state="available", location=tasks.Location("C1"))
        return tasks.dispatch(s, who.enterprise_id, text, tasks.Location("C1")).id
    return in_db(sessionmaker, run)


def order_state(sessionmaker, number: str) -> str | None:
    return in_db(sessionmaker, lambda s: s.scalar(
        select(Order.state).where(Order.enterprise_id == demo(s).id, Order.number == number)))


def order_count(sessionmaker) -> int:
    return in_db(sessionmaker, lambda s: len(list(s.scalars(select(Order.id)))))


def stock(sessionmaker, sku: str, site: str) -> int:
    return in_db(sessionmaker, lambda s: s.scalar(
        select(StockLevel.quantity).join(Item, Item.id == StockLevel.item_id).join(Site, Site.id == StockLevel.site_id)
        .where(Item.sku == sku, Site.code == site, Item.enterprise_id == demo(s).id)))


def notices(sessionmaker, msisdn: str) -> list[tuple[str, str]]:
    """(key, English text) of the notifications stored for a number."""
    return in_db(sessionmaker, lambda s: [
        (n.key, n.text_en) for n in s.scalars(
            select(StoredNotification).where(StoredNotification.msisdn == msisdn).order_by(StoredNotification.id))
    ])
