"""Builders shared by the stock tests: the seed-004 site tree and a serialised handset."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from erpcore import site_tree
from erpcore.imei import luhn_check_digit
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.tenants import Enterprise

HANDSET_TAC = "35328507"


def make_imei(serial: int, tac: str = HANDSET_TAC) -> str:
    body = f"{tac}{serial:06d}"
    return body + luhn_check_digit(body)


def tenant(session, code: str) -> Enterprise:
    return session.scalars(select(Enterprise).where(Enterprise.code == code)).one()


def site(session, enterprise_id: int, code: str) -> Site:
    return session.scalars(select(Site).where(Site.enterprise_id == enterprise_id, Site.code == code)).one()


def level(session, item_id: int, site_id: int) -> int:
    session.flush()
    found = session.scalar(select(StockLevel.quantity).where(
        StockLevel.item_id == item_id, StockLevel.site_id == site_id))
    return int(found or 0)


def build_province(session, enterprise_id: int) -> dict[str, Site]:
    """Seed 004's shape: a province with its warehouse, a city with a hall, an agent and an
    after-sales point."""
    made = {}
    made["HLJ"] = site_tree.create_site(session, enterprise_id, code="HLJ", name="黑龙江省", kind="province")
    made["PWH"] = site_tree.create_site(session, enterprise_id, code="PWH", name="省仓库", kind="warehouse",
                                        parent_id=made["HLJ"].id)
    made["HRB"] = site_tree.create_site(session, enterprise_id, code="HRB", name="哈尔滨市", kind="city",
                                        parent_id=made["HLJ"].id)
    made["HRB-H1"] = site_tree.create_site(session, enterprise_id, code="HRB-H1", name="哈尔滨一厅",
                                           kind="hall", parent_id=made["HRB"].id)
    made["HRB-AG"] = site_tree.create_site(session, enterprise_id, code="HRB-AG", name="哈尔滨代理商",
                                           kind="agent", parent_id=made["HRB"].id)
    made["HRB-SV"] = site_tree.create_site(session, enterprise_id, code="HRB-SV", name="哈尔滨售后",
                                           kind="service", parent_id=made["HRB"].id)
    return made


def handset_item(session, enterprise_id: int, sku: str = "P40", tac: str | None = HANDSET_TAC) -> Item:
    item = Item(enterprise_id=enterprise_id, sku=sku, name="手机" + sku, tac=tac, serialised=True,
                unit_price=Decimal("1999.00"))
    session.add(item)
    session.flush()
    return item
