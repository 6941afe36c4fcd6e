"""Stock movements and IMEI handsets, told as seed 004's handset business runs them."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from erpcore import audit, events, imei, movements, site_tree
from erpcore.errors import NotFound
from erpcore.imei import DuplicateImei, ImeiNotFound, ImeiUnavailable, InvalidImei
from erpcore.items import Item
from erpcore.movements import InsufficientStock, InvalidMovement, move
from erpcore.stock import StockLevel
from tests.erpcore.stock_helpers import build_province, handset_item, level, make_imei, site, tenant


@pytest.fixture
def demo(session):
    return tenant(session, "DEMO")


@pytest.fixture
def tree(session, demo):
    return build_province(session, demo.id)


@pytest.fixture
def phone(session, demo):
    return handset_item(session, demo.id)


@pytest.fixture
def published():
    seen: list[events.StockChanged] = []

    def handler(_session, event):
        seen.append(event)

    events.subscribe(events.StockChanged, handler)
    yield seen
    events._handlers[events.StockChanged].remove(handler)


def total(session, item_id: int) -> int:
    session.flush()
    return int(session.scalar(select(func.coalesce(func.sum(StockLevel.quantity), 0))
                              .where(StockLevel.item_id == item_id)))


# --- IMEI validation ----------------------------------------------------------------------

def test_the_luhn_digit_matches_a_published_imei():
    """490154203237518 is the worked example of the IMEI check digit (3GPP TS 23.003 annex B style)."""
    assert imei.luhn_check_digit("49015420323751") == "8"
    assert imei.validate_imei(" 490154203237518 ") == "490154203237518"


@pytest.mark.parametrize("value, reason", [
    ("49015420323751", "not_15_digits"),
    ("4901542032375181", "not_15_digits"),
    ("49015420323751a", "not_15_digits"),
    ("490154203237519", "bad_check_digit"),
])
def test_a_malformed_imei_is_refused_with_its_reason(value, reason):
    with pytest.raises(InvalidImei) as caught:
        imei.validate_imei(value)
    assert caught.value.reason == reason
    assert caught.value.code == "imei.invalid"


def test_an_imei_of_another_model_is_refused_by_its_tac():
    with pytest.raises(InvalidImei) as caught:
        imei.validate_imei("490154203237518", tac="35328507")
    assert caught.value.reason == "tac_mismatch"


def test_a_document_lists_every_bad_imei_and_refuses_one_listed_twice():
    with pytest.raises(InvalidImei) as caught:
        good = make_imei(2)
        imei.validate_document([make_imei(1), "123", good[:-1] + str((int(good[-1]) + 1) % 10)])
    assert [why for _, why in caught.value.details["invalid"]] == ["not_15_digits", "bad_check_digit"]
    with pytest.raises(DuplicateImei) as twice:
        imei.validate_document([make_imei(1), make_imei(2), make_imei(1)])
    assert twice.value.imeis == [make_imei(1)] and twice.value.where == "document"


# --- the handset's story ----------------------------------------------------------------

def test_a_handset_received_transferred_sold_and_returned_to_an_agent_tells_its_story(session, demo, tree, phone):
    warehouse, hall, agent = tree["PWH"], tree["HRB-H1"], tree["HRB-AG"]
    serials = [make_imei(n) for n in range(1, 4)]
    one = serials[0]

    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=warehouse.id, imeis=serials,
         reference="PO-1")
    assert (level(session, phone.id, warehouse.id), total(session, phone.id)) == (3, 3)

    move(session, demo.id, kind="transfer", item_id=phone.id, from_site_id=warehouse.id,
         to_site_id=hall.id, imeis=[one])
    assert (level(session, phone.id, warehouse.id), level(session, phone.id, hall.id)) == (2, 1)
    assert total(session, phone.id) == 3

    move(session, demo.id, kind="ship", item_id=phone.id, from_site_id=hall.id, imeis=[one])
    assert (level(session, phone.id, hall.id), total(session, phone.id)) == (0, 2)

    move(session, demo.id, kind="return", item_id=phone.id, to_site_id=agent.id, imeis=[one])
    assert (level(session, phone.id, agent.id), total(session, phone.id)) == (1, 3)

    story = imei.trace(session, demo.id, one)
    assert (story.site, story.state, story.sku) == ("HRB-AG", "returned", "P40")
    assert [(s.kind, s.from_site, s.to_site, s.state) for s in story.history] == [
        ("receive", None, "PWH", "in_stock"),
        ("transfer", "PWH", "HRB-H1", "in_stock"),
        ("ship", "HRB-H1", None, "sold"),
        ("return", None, "HRB-AG", "returned"),
    ]
    assert all(s.movement_number.startswith("MV") for s in story.history)
    untouched = imei.trace(session, demo.id, serials[1])
    assert (untouched.site, len(untouched.history)) == ("PWH", 1)


def test_plain_items_move_by_quantity_and_levels_balance(session, demo):
    charger = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "CHG1")).one()
    wh1, hall1 = site(session, demo.id, "WH1"), site(session, demo.id, "HALL1")
    before_total = total(session, charger.id)
    move(session, demo.id, kind="transfer", item_id=charger.id, quantity=40, from_site_id=wh1.id,
         to_site_id=hall1.id)
    assert (level(session, charger.id, wh1.id), level(session, charger.id, hall1.id)) == (460, 70)
    assert total(session, charger.id) == before_total
    move(session, demo.id, kind="adjust", item_id=charger.id, quantity=5, from_site_id=hall1.id)
    move(session, demo.id, kind="receive", item_id=charger.id, quantity=100, to_site_id=wh1.id)
    assert total(session, charger.id) == before_total - 5 + 100


def test_every_movement_is_audited_with_its_number(session, demo, tree, phone):
    movement_id = move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id,
                       imeis=[make_imei(7)], actor_user_id=None)
    [entry] = audit.history(session, demo.id, "movement", movement_id)
    assert entry.action == "movement.receive"
    assert entry.after["number"] == f"MV{movement_id:08d}" and entry.after["imei_count"] == 1
    assert movements.movement_imeis(session, demo.id, movement_id) == [make_imei(7)]


# --- refusals change nothing -------------------------------------------------------------

def test_shipping_more_than_a_site_holds_is_refused_with_nothing_changed(session, demo, published):
    x100 = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "X100")).one()
    hall1 = site(session, demo.id, "HALL1")
    count = session.scalar(select(func.count()).select_from(movements.Movement))
    with pytest.raises(InsufficientStock) as caught:
        move(session, demo.id, kind="ship", item_id=x100.id, quantity=13, from_site_id=hall1.id)
    assert (caught.value.available, caught.value.requested) == (12, 13)
    assert level(session, x100.id, hall1.id) == 12
    assert session.scalar(select(func.count()).select_from(movements.Movement)) == count
    assert published == []


def test_receiving_an_imei_already_in_stock_is_refused(session, demo, tree, phone):
    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id, imeis=[make_imei(1)])
    with pytest.raises(DuplicateImei) as caught:
        move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["HRB-H1"].id,
             imeis=[make_imei(2), make_imei(1)])
    assert caught.value.where == "stock" and caught.value.imeis == [make_imei(1)]
    assert level(session, phone.id, tree["HRB-H1"].id) == 0
    with pytest.raises(ImeiNotFound):
        imei.trace(session, demo.id, make_imei(2))


def test_a_receipt_with_the_wrong_tac_or_a_repeated_imei_is_refused(session, demo, tree, phone):
    with pytest.raises(InvalidImei) as caught:
        move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id,
             imeis=["490154203237518"])
    assert caught.value.reason == "tac_mismatch"
    with pytest.raises(DuplicateImei):
        move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id,
             imeis=[make_imei(3), make_imei(3)])
    assert total(session, phone.id) == 0


def test_a_handset_cannot_leave_a_site_it_is_not_at(session, demo, tree, phone):
    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id, imeis=[make_imei(1)])
    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["HRB-H1"].id, imeis=[make_imei(2)])
    with pytest.raises(ImeiUnavailable) as caught:
        move(session, demo.id, kind="ship", item_id=phone.id, from_site_id=tree["HRB-H1"].id,
             imeis=[make_imei(1)])
    assert caught.value.problems == [(make_imei(1), "not at this site")]
    with pytest.raises(ImeiNotFound):
        move(session, demo.id, kind="ship", item_id=phone.id, from_site_id=tree["HRB-H1"].id,
             imeis=[make_imei(9)])
    with pytest.raises(ImeiUnavailable):  # only a sold handset comes back as a return
        move(session, demo.id, kind="return", item_id=phone.id, to_site_id=tree["HRB-AG"].id,
             imeis=[make_imei(2)])
    assert imei.trace(session, demo.id, make_imei(1)).state == "in_stock"


@pytest.mark.parametrize("kwargs, code", [
    ({"kind": "teleport", "quantity": 1, "to_site": "WH1"}, "movement.invalid"),
    ({"kind": "receive", "quantity": 0, "to_site": "WH1"}, "movement.invalid"),
    ({"kind": "receive", "quantity": 1, "from_site": "WH1"}, "movement.invalid"),
    ({"kind": "transfer", "quantity": 1, "from_site": "WH1", "to_site": "WH1"}, "movement.invalid"),
    ({"kind": "adjust", "quantity": 1, "from_site": "WH1", "to_site": "HALL1"}, "movement.invalid"),
    ({"kind": "receive", "quantity": 1, "to_site": "WH1", "imeis": ["490154203237518"]},
     "movement.imeis_unexpected"),
])
def test_a_malformed_movement_gets_a_clear_answer(session, demo, kwargs, code):
    charger = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "CHG1")).one()
    kwargs = dict(kwargs)
    for key in ("from_site", "to_site"):
        if key in kwargs:
            kwargs[key + "_id"] = site(session, demo.id, kwargs.pop(key)).id
    with pytest.raises(InvalidMovement) as caught:
        move(session, demo.id, item_id=charger.id, **kwargs)
    assert caught.value.code == code


def test_a_serialised_item_needs_its_imeis(session, demo, tree, phone):
    with pytest.raises(InvalidMovement) as caught:
        move(session, demo.id, kind="receive", item_id=phone.id, quantity=2, to_site_id=tree["PWH"].id)
    assert caught.value.code == "movement.imeis_required"


# --- events -------------------------------------------------------------------------------

def test_stock_changed_is_published_per_site_with_before_and_after(session, demo, published):
    n200 = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "N200")).one()
    wh1, hall2 = site(session, demo.id, "WH1"), site(session, demo.id, "HALL2")
    movement_id = move(session, demo.id, kind="transfer", item_id=n200.id, quantity=3,
                       from_site_id=wh1.id, to_site_id=hall2.id)
    assert sorted(published, key=lambda e: e.site_id) == sorted([
        events.StockChanged(demo.id, n200.id, wh1.id, 80, 77, movement_id),
        events.StockChanged(demo.id, n200.id, hall2.id, 7, 10, movement_id),
    ], key=lambda e: e.site_id)


def test_a_handler_sees_the_new_level_already_flushed(session, demo):
    n200 = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "N200")).one()
    wh1 = site(session, demo.id, "WH1")
    seen = []

    def handler(s, event):
        seen.append(s.scalar(select(StockLevel.quantity).where(
            StockLevel.item_id == event.item_id, StockLevel.site_id == event.site_id)))

    events.subscribe(events.StockChanged, handler)
    try:
        move(session, demo.id, kind="ship", item_id=n200.id, quantity=2, from_site_id=wh1.id)
    finally:
        events._handlers[events.StockChanged].remove(handler)
    assert seen == [78]


# --- the site tree ------------------------------------------------------------------------

def test_sites_form_the_province_city_hall_tree(session, demo, tree):
    assert [s.code for s in site_tree.ancestors(session, demo.id, tree["HRB-H1"].id)] == ["HRB", "HLJ"]
    assert [s.code for s in site_tree.descendants(session, demo.id, tree["HLJ"].id)] == [
        "PWH", "HRB", "HRB-H1", "HRB-AG", "HRB-SV"]
    assert site_tree.ancestors(session, demo.id, tree["HLJ"].id) == []
    [entry] = audit.history(session, demo.id, "site", tree["HRB"].id)
    assert entry.action == "site.create" and entry.after["kind"] == "city"


@pytest.mark.parametrize("kind, parent, error", [
    ("city", None, site_tree.InvalidSite),
    ("province", "HRB", site_tree.InvalidSite),
    ("hall", "HRB-H1", site_tree.InvalidSite),
    ("galaxy", None, site_tree.InvalidSite),
])
def test_a_site_is_only_placed_where_its_kind_belongs(session, demo, tree, kind, parent, error):
    parent_id = tree[parent].id if parent else None
    with pytest.raises(error):
        site_tree.create_site(session, demo.id, code="NEW", name="新", kind=kind, parent_id=parent_id)


def test_a_site_code_is_unique_in_its_enterprise(session, demo, tree):
    with pytest.raises(site_tree.DuplicateSite):
        site_tree.create_site(session, demo.id, code="HRB", name="again", kind="city", parent_id=tree["HLJ"].id)


# --- tenant isolation -------------------------------------------------------------------

def test_another_tenant_cannot_reach_this_tenants_stock_handsets_or_sites(session, demo, tree, phone):
    other = tenant(session, "OTHER")
    owh = site(session, other.id, "OWH")
    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id, imeis=[make_imei(1)])
    movement_id = session.scalar(select(func.max(movements.Movement.id)))
    with pytest.raises(NotFound):  # the demo's item
        move(session, other.id, kind="receive", item_id=phone.id, to_site_id=owh.id, imeis=[make_imei(2)])
    with pytest.raises(NotFound):  # the demo's site
        other_item = session.scalars(select(Item).where(Item.enterprise_id == other.id, Item.sku == "X100")).one()
        move(session, other.id, kind="transfer", item_id=other_item.id, quantity=1, from_site_id=owh.id,
             to_site_id=tree["PWH"].id)
    with pytest.raises(NotFound):
        move(session, demo.id, kind="ship", item_id=phone.id, from_site_id=owh.id, imeis=[make_imei(1)])
    with pytest.raises(ImeiNotFound):
        imei.trace(session, other.id, make_imei(1))
    with pytest.raises(NotFound):
        movements.get_movement(session, other.id, movement_id)
    with pytest.raises(NotFound):
        movements.movement_imeis(session, other.id, movement_id)
    for call in (site_tree.ancestors, site_tree.descendants):
        with pytest.raises(NotFound):
            call(session, other.id, tree["HRB"].id)
    with pytest.raises(NotFound):
        site_tree.create_site(session, other.id, code="X", name="x", kind="hall", parent_id=tree["HRB"].id)
    assert level(session, other_item.id, owh.id) == 777
    assert imei.trace(session, demo.id, make_imei(1)).site == "PWH"


def test_the_same_imei_may_belong_to_two_enterprises(session, demo, tree, phone):
    other = tenant(session, "OTHER")
    their_phone = handset_item(session, other.id)
    move(session, demo.id, kind="receive", item_id=phone.id, to_site_id=tree["PWH"].id, imeis=[make_imei(1)])
    move(session, other.id, kind="receive", item_id=their_phone.id, to_site_id=site(session, other.id, "OWH").id,
         imeis=[make_imei(1)])
    assert imei.trace(session, other.id, make_imei(1)).site == "OWH"
    assert imei.trace(session, demo.id, make_imei(1)).site == "PWH"


def test_every_generated_check_digit_passes_the_plain_luhn_test():
    """Checked against the textbook Luhn test on the whole 15 digits, written independently."""
    from hypothesis import given, strategies as st

    def luhn_valid(number: str) -> bool:
        total = 0
        for position, char in enumerate(reversed(number)):
            digit = int(char) * (2 if position % 2 else 1)
            total += digit // 10 + digit % 10
        return total % 10 == 0

    @given(st.text(alphabet="0123456789", min_size=14, max_size=14))
    def check(body):
        assert luhn_valid(body + imei.luhn_check_digit(body))
        assert not luhn_valid(body + str((int(imei.luhn_check_digit(body)) + 1) % 10))

    check()
