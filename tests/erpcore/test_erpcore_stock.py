"""Items and stock: lookup by SKU, model or TAC, per-site and all-site quantities, and
tenant isolation."""
from __future__ import annotations

import pytest

from erpcore.items import AmbiguousItem, Item, ItemNotFound, find_item
from erpcore.sites import SiteNotFound, find_site
from erpcore.stock import stock_of
from erpcore.tenants import find_by_extension


@pytest.fixture
def demo(session):
    return find_by_extension(session, "01")


@pytest.fixture
def other(session):
    return find_by_extension(session, "02")


@pytest.mark.parametrize(
    "query", ["X100", "x100", " X100 ", "MX100-AL00", "mx100-al00", "86123456", "861234560012345"]
)
def test_an_item_is_found_by_sku_model_tac_or_imei(session, demo, query):
    assert find_item(session, demo.id, query).sku == "X100"


def test_an_unknown_item_raises_with_the_query(session, demo):
    with pytest.raises(ItemNotFound) as caught:
        find_item(session, demo.id, "Z900")  # exists, but only in OTHER
    assert caught.value.query == "Z900"


def test_a_tac_shared_by_two_items_is_ambiguous(session, demo):
    session.add(Item(enterprise_id=demo.id, sku="X100B", name="X100 蓝色", tac="86123456", unit_price=1))
    session.flush()
    with pytest.raises(AmbiguousItem) as caught:
        find_item(session, demo.id, "86123456")
    assert caught.value.skus == ["X100", "X100B"]
    assert find_item(session, demo.id, "X100B").sku == "X100B"  # the SKU still decides


def test_stock_at_the_users_site(session, demo):
    hall1 = find_site(session, demo.id, "HALL1")
    result = stock_of(session, demo.id, "X100", default_site_id=hall1.id)
    assert [(level.code, level.quantity) for level in result.levels] == [("HALL1", 12)]
    assert not result.all_sites


@pytest.mark.parametrize("site", ["HALL2", "hall2", "二厅", "Hall 2"])
def test_stock_at_a_named_site_by_code_or_name(session, demo, site):
    hall1 = find_site(session, demo.id, "HALL1")
    result = stock_of(session, demo.id, "N200", site_code=site, default_site_id=hall1.id)
    assert [(level.code, level.quantity) for level in result.levels] == [("HALL2", 7)]


def test_a_site_without_a_stock_row_holds_zero(session, demo):
    result = stock_of(session, demo.id, "C300", site_code="HALL2")
    assert [(level.code, level.quantity) for level in result.levels] == [("HALL2", 0)]


def test_without_a_site_every_site_is_listed_most_first(session, demo):
    result = stock_of(session, demo.id, "N200")
    assert [(level.code, level.quantity) for level in result.levels] == [("WH1", 80), ("HALL2", 7), ("HALL1", 5)]
    assert result.all_sites and result.total == 92


def test_an_unknown_site_raises_with_the_query(session, demo):
    with pytest.raises(SiteNotFound) as caught:
        stock_of(session, demo.id, "X100", site_code="OWH")  # OTHER's site
    assert caught.value.query == "OWH"


def test_tenants_never_see_each_others_items_sites_or_quantities(session, demo, other):
    demo_all = stock_of(session, demo.id, "X100")
    assert {level.code for level in demo_all.levels} == {"WH1", "HALL1", "HALL2"}
    assert 999 not in [level.quantity for level in demo_all.levels]
    other_all = stock_of(session, other.id, "X100")
    assert [(level.code, level.quantity) for level in other_all.levels] == [("WH1", 999), ("OWH", 777)]
    assert other_all.name == "别家X100"
    assert stock_of(session, other.id, "86123456").sku == "X100"  # OTHER's own X100 by TAC
    with pytest.raises(SiteNotFound):
        stock_of(session, other.id, "X100", site_code="HALL1")


def test_a_default_site_of_another_tenant_is_refused(session, demo, other):
    hall1 = find_site(session, demo.id, "HALL1")
    with pytest.raises(SiteNotFound):
        stock_of(session, other.id, "X100", default_site_id=hall1.id)
