"""The ``send`` fixture: one SMS through commands.handle against the demo enterprise
(extension 01) and a second enterprise OTHER (extension 02) that reuses the SKU X100
with its own stock, so leaks between tenants would show."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from commands.registry import Options
from erpcore.db import session_scope
from erpcore.demo import DEMO_SERVICE_CODE, seed_demo
from erpcore.items import Item
from erpcore.services import ensure_open
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.tenants import Enterprise
from erpcore.users import User
from tests.commands.cmd_helpers import CLERK, FINANCE, MANAGER, PIN, demo, in_db, set_pin

OTHER_USER = "13900000099"  # OTHER's only user; also in test_commands_handle.py
DEMO_NUMBER = DEMO_SERVICE_CODE + "01"


@dataclass(frozen=True)
class Sms:
    """Duck-typed like gateway.messages.InboundSms."""

    sender: str
    recipient: str
    text: str


def seed_other(session) -> None:
    other = Enterprise(code="OTHER", name="别家公司", name_en="Other Co", extension="02", lang="en")
    session.add(other)
    session.flush()
    ensure_open(session, other.id)  # its modules open, so only tenancy can refuse its users
    site = Site(enterprise_id=other.id, code="OWH", name="外仓", kind="warehouse")
    x100 = Item(enterprise_id=other.id, sku="X100", name="别家X100", name_en="Other X100", unit_price=Decimal(1))
    z900 = Item(enterprise_id=other.id, sku="Z900", name="别家Z900", unit_price=Decimal(2))
    session.add_all([site, x100, z900])
    session.flush()
    session.add_all([
        StockLevel(item_id=x100.id, site_id=site.id, quantity=999),
        StockLevel(item_id=z900.id, site_id=site.id, quantity=5),
        User(enterprise_id=other.id, username="o", display_name="O", msisdn=OTHER_USER),
    ])


PURCHASE_APPROVAL_FROM = "5000"


def demo_rules(enterprise_id, session) -> None:
    """Purchases from 5000 need the manager; cheaper ones are approved at once."""
    from erpcore import approvals

    approvals.set_rules(session, enterprise_id, "purchase", [(1, PURCHASE_APPROVAL_FROM, "manager")])


@pytest.fixture
def send(sessionmaker):
    """send(sender, text, recipient=DEMO_NUMBER) -> Outcome, each in its own transaction."""
    import commands

    with session_scope(sessionmaker) as session:
        demo_rules(seed_demo(session).id, session)
        seed_other(session)

    def _send(sender: str, text: str, recipient: str = DEMO_NUMBER, service_code: str = DEMO_SERVICE_CODE):
        with session_scope(sessionmaker) as session:
            return commands.handle(session, Sms(sender, recipient, text), service_code)

    return _send


# -- the approval commands' world (test_cmd_approve/reject/pending/status) --------------

@pytest.fixture
def ordered(send):
    """Order 1001: the clerk's X100 x2 (9998), awaiting the manager."""
    assert send(CLERK, "DH X100 2").ok
    return "1001"


@pytest.fixture
def finance(sessionmaker):
    """赵敏, finance: may approve, but order 1001 awaits a manager."""
    in_db(sessionmaker, lambda s: s.add(User(enterprise_id=demo(s).id, username="zhao", display_name="赵敏",
                                             msisdn=FINANCE, lang="zh", role="finance")))


@pytest.fixture
def send_pin(sessionmaker, send):
    """send() with approvals from 5000 needing the PIN; the manager's PIN is 246810."""
    import commands

    set_pin(sessionmaker, MANAGER, PIN)

    def _send(sender, text):
        with session_scope(sessionmaker) as session:
            return commands.handle(session, Sms(sender, DEMO_NUMBER, text), "1065712345",
                                   options=Options(pin_above=Decimal("5000")))
    return _send
