"""Fixtures for pipeline tests: a clock at a realistic time, row readers and two stored
notifications for the notifier."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from twisted.internet.task import Clock

from erpcore import events, notifications
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.items import Item
from erpcore.orders import LineIn, create_order
from erpcore.users import User
from tests.pipeline.pipeline_fakes import START


@pytest.fixture
def clock():
    c = Clock()
    c.advance(START)
    return c


@pytest.fixture
def now():
    return datetime.fromtimestamp(START, timezone.utc).replace(tzinfo=None)


@pytest.fixture
def rows(sessionmaker):
    """rows(Model, **filters) -> list of row mappings, read in a fresh transaction."""

    def read(model, **filters):
        table = model.__table__
        query = select(table).order_by(*table.primary_key.columns)
        for name, value in filters.items():
            query = query.where(table.c[name] == value)
        with sessionmaker() as session:
            return [r._asdict() for r in session.execute(query)]

    return read


@pytest.fixture
def later(now):
    return lambda seconds: now + timedelta(seconds=seconds)


def request_approval(session, enterprise, text_en: str | None = None) -> None:
    """The clerk (13800000001) orders one X100 and the manager (13800000002) is asked to
    approve it: a pending notification, in English "To approve <number>" unless given."""
    manager = session.scalars(select(User).where(User.msisdn == "13800000002")).one()
    clerk = session.scalars(select(User).where(User.msisdn == "13800000001")).one()
    x100 = session.scalars(select(Item).where(Item.sku == "X100")).one()
    order = create_order(session, enterprise.id, kind="purchase", requester_user_id=clerk.id,
                         lines=[LineIn(x100.id, 1)], to_site_id=clerk.site_id)
    notifications.notify(session, events.Notification(
        enterprise.id, "13800000002", "待审批", text_en or f"To approve {order.number}",
        user_id=manager.id, key=f"approval:{order.id}:{manager.id}"))


@pytest.fixture
def stored(sessionmaker):
    """The demo with two pending notifications: an approval request to the manager (English,
    13800000002) and an urgent task notice to the clerk (Chinese, 13800000001)."""
    with session_scope(sessionmaker) as session:
        enterprise = seed_demo(session)
        request_approval(session, enterprise)
        clerk = session.scalars(select(User).where(User.msisdn == "13800000001")).one()
        notifications.notify(session, events.Notification(
            enterprise.id, "13800000001", "新任务#1", "New task #1", user_id=clerk.id, urgent=True,
            key="task:1"))
