"""Stocktake (盘点): the books exported, the count imported, the differences reported."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from erpcore import imei, stocktake
from erpcore.items import Item
from erpcore.movements import move
from erpcore.stocktake import StocktakeFileInvalid
from tests.erpcore.stock_helpers import build_province, handset_item, level, make_imei, site, tenant


@pytest.fixture
def demo(session):
    return tenant(session, "DEMO")


@pytest.fixture
def counted_hall(session, demo):
    """HRB-H1 holds three handsets of P40 and 10 chargers by the books."""
    tree = build_province(session, demo.id)
    phone = handset_item(session, demo.id)
    charger = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "CHG1")).one()
    hall = tree["HRB-H1"]
    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=hall.id,
         imeis=[make_imei(n) for n in (1, 2, 3)])
    move(session, demo.id, kind="receive", item_id=charger.id, quantity=10, to_site_id=hall.id)
    return hall, phone, charger


def export(session, enterprise_id, codes=None) -> str:
    out = io.StringIO()
    stocktake.export_csv(session, enterprise_id, out, codes)
    return out.getvalue()


def test_the_export_lists_plain_quantities_and_one_row_per_handset(session, demo, counted_hall):
    assert export(session, demo.id, ["HRB-H1"]).splitlines() == [
        "site,sku,quantity,imei",
        "HRB-H1,CHG1,10,",
        f"HRB-H1,P40,1,{make_imei(1)}",
        f"HRB-H1,P40,1,{make_imei(2)}",
        f"HRB-H1,P40,1,{make_imei(3)}",
    ]


def test_a_count_matching_the_books_reports_no_difference(session, demo, counted_hall):
    text = export(session, demo.id, ["HRB-H1"])
    report = stocktake.import_counts(session, demo.id, io.StringIO(text))
    assert (report.lines, report.differences) == (4, ())


def test_missing_and_extra_handsets_and_a_short_count_are_reported(session, demo, counted_hall):
    hall, phone, charger = counted_hall
    counted = ("site,sku,quantity,imei\n"
               "HRB-H1,CHG1,7,\n"
               f"HRB-H1,P40,1,{make_imei(1)}\n"
               f"HRB-H1,P40,1,{make_imei(3)}\n"
               f"HRB-H1,P40,1,{make_imei(9)}\n")
    report = stocktake.import_counts(session, demo.id, io.StringIO(counted))
    assert report.differences == (
        stocktake.Difference("HRB-H1", "CHG1", 10, 7),
        stocktake.Difference("HRB-H1", "P40", 3, 3, (make_imei(2),), (make_imei(9),)),
    )
    assert level(session, charger.id, hall.id) == 10  # a report alone changes nothing


def test_with_adjust_the_books_follow_the_count(session, demo, counted_hall):
    hall, phone, charger = counted_hall
    counted = ("site,sku,quantity,imei\n"
               "HRB-H1,CHG1,12,\n"
               f"HRB-H1,P40,1,{make_imei(1)}\n"
               f"HRB-H1,P40,1,{make_imei(9)}\n")
    report = stocktake.import_counts(session, demo.id, io.StringIO(counted), adjust=True, reference="ST-1")
    assert len(report.movement_ids) == 3
    assert (level(session, charger.id, hall.id), level(session, phone.id, hall.id)) == (12, 2)
    assert imei.trace(session, demo.id, make_imei(2)).state == "lost"
    assert imei.trace(session, demo.id, make_imei(9)).site == "HRB-H1"
    again = stocktake.import_counts(session, demo.id, io.StringIO(counted))
    assert again.differences == ()


def test_an_item_the_file_omits_at_a_counted_site_was_counted_as_none(session, demo, counted_hall):
    report = stocktake.import_counts(session, demo.id, io.StringIO("site,sku,quantity,imei\nHRB-H1,CHG1,10,\n"))
    [diff] = report.differences
    assert (diff.sku, diff.expected, diff.counted, len(diff.missing_imeis)) == ("P40", 3, 0, 3)


def test_a_bad_file_is_refused_with_every_line_number_and_nothing_changed(session, demo, counted_hall):
    hall, phone, charger = counted_hall
    bad = ("site,sku,quantity,imei\n"
           "HRB-H1,CHG1,x,\n"
           "NOWHERE,CHG1,1,\n"
           "HRB-H1,NOPE,1,\n"
           "HRB-H1,P40,1,123\n"
           f"HRB-H1,P40,1,{make_imei(1)}\n"
           f"HRB-H1,P40,1,{make_imei(1)}\n"
           "HRB-H1,P40,1,\n")
    with pytest.raises(StocktakeFileInvalid) as caught:
        stocktake.import_counts(session, demo.id, io.StringIO(bad), adjust=True)
    assert [line for line, _ in caught.value.errors] == [2, 3, 4, 5, 7, 8]
    assert level(session, charger.id, hall.id) == 10


def test_another_tenants_sites_and_items_are_unknown_to_a_stocktake(session, demo, counted_hall):
    other = tenant(session, "OTHER")
    with pytest.raises(StocktakeFileInvalid) as caught:
        stocktake.import_counts(session, other.id, io.StringIO("site,sku,quantity,imei\nHRB-H1,CHG1,1,\n"))
    assert caught.value.errors == [(2, "unknown site 'HRB-H1'")]
    exported = export(session, other.id)
    assert "HRB-H1" not in exported and "P40" not in exported
    assert "WH1,X100,999," in exported
