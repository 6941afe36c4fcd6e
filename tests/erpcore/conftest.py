"""Seeded databases for erpcore tests: the demo enterprise plus a second tenant that
reuses the demo's SKU and site codes, so leaks between tenants would show."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.tenants import Enterprise
from erpcore.users import User
from tests.erpcore.documents_helpers import build_world


def seed_other(session) -> Enterprise:
    """Enterprise OTHER (extension 02): its own X100 and WH1, and a user whose MSISDN is
    also a demo user's."""
    other = Enterprise(code="OTHER", name="别家公司", name_en="Other Co", extension="02", lang="en")
    session.add(other)
    session.flush()
    site = Site(enterprise_id=other.id, code="WH1", name="别家仓库", name_en="Other warehouse", kind="warehouse")
    owh = Site(enterprise_id=other.id, code="OWH", name="外仓", kind="warehouse")
    x100 = Item(enterprise_id=other.id, sku="X100", name="别家X100", name_en="Other X100", tac="86123456",
                unit_price=Decimal("1.00"))
    z900 = Item(enterprise_id=other.id, sku="Z900", name="别家Z900", unit_price=Decimal("2.00"))
    session.add_all([site, owh, x100, z900])
    session.flush()
    session.add_all([
        StockLevel(item_id=x100.id, site_id=site.id, quantity=999),
        StockLevel(item_id=x100.id, site_id=owh.id, quantity=777),
        StockLevel(item_id=z900.id, site_id=site.id, quantity=5),
        User(enterprise_id=other.id, username="zhang", display_name="Other Zhang", msisdn="13800000001",
             lang=None, site_id=None),
    ])
    session.flush()
    return other


@pytest.fixture
def seeded(sessionmaker):
    """A sessionmaker on a database holding the demo enterprise and OTHER."""
    with session_scope(sessionmaker) as session:
        seed_demo(session)
        seed_other(session)
    return sessionmaker


@pytest.fixture
def session(seeded):
    with session_scope(seeded) as session:
        yield session


@pytest.fixture
def world(session):
    """The documents world (tests.erpcore.documents_helpers.build_world) in ``session``."""
    return build_world(session)


@pytest.fixture
def statements(session):
    """The SQL statements the session's connection sends from now on, blanks collapsed."""
    seen: list[str] = []
    engine = session.get_bind()

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
