"""Cross-organisation sharing groups, as seed 001 describes them: the creating tenant keeps
the group and its rules, members see each other's data only as far as a rule allows, a
member who leaves is cut off and a dissolved group leaves no rule behind."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erpcore import clouds, services, sharing
from erpcore.errors import Conflict, NotFound, PermissionDenied
from erpcore.tenants import Enterprise


@pytest.fixture
def group(session, world):
    """DEMO's group with OTHER in it; OTHER's stock shared with DEMO in detail."""
    created = sharing.create_group(session, world.demo, "华南渠道", actor_user_id=world.users["smith"])
    sharing.invite(session, world.demo, created.id, "OTHER")
    sharing.accept(session, world.other, created.id)
    sharing.set_rule(session, world.demo, created.id, owner_id=world.other, viewer_id=world.demo,
                     kind="stock", level="detail")
    return created


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_member_sees_a_partners_stock_as_far_as_the_rule_allows(session, world, group):
    assert sharing.visible(session, world.demo, world.other, "stock") == "detail"
    assert sharing.visible(session, world.other, world.demo, "stock") == "none"  # rules are one-way
    assert sharing.visible(session, world.demo, world.other, "orders") == "none"
    seen = sharing.shared_stock(session, world.demo, world.other, "X100")
    assert (seen.level, seen.total) == ("detail", 999 + 777)
    assert {(s.code, s.quantity) for s in seen.sites} == {("WH1", 999), ("OWH", 777)}
    assert seen.unit_price is None


def test_summary_shows_totals_only_and_everything_adds_the_price(session, world, group):
    sharing.set_rule(session, world.demo, group.id, owner_id=world.other, viewer_id=world.demo,
                     kind="stock", level="summary")
    seen = sharing.shared_stock(session, world.demo, world.other, "X100")
    assert (seen.total, seen.sites, seen.unit_price) == (1776, None, None)
    sharing.set_rule(session, world.demo, group.id, owner_id=world.other, viewer_id=world.demo,
                     kind="stock", level="everything")
    seen = sharing.shared_stock(session, world.demo, world.other, "X100")
    assert seen.unit_price == Decimal("1.00") and len(seen.sites) == 2


def test_nothing_is_shown_without_a_rule_or_before_the_invitee_accepts(session, world):
    created = sharing.create_group(session, world.demo, "g")
    sharing.invite(session, world.demo, created.id, "OTHER")
    sharing.set_rule(session, world.demo, created.id, owner_id=world.other, viewer_id=world.demo,
                     kind="stock", level="everything")
    assert sharing.visible(session, world.demo, world.other, "stock") == "none"
    with pytest.raises(sharing.NotShared) as caught:
        sharing.shared_stock(session, world.demo, world.other, "X100")
    assert caught.value.code == "share.not_shared"
    sharing.decline(session, world.other, created.id)
    assert sharing.visible(session, world.demo, world.other, "stock") == "none"
    with pytest.raises(Conflict):
        sharing.accept(session, world.other, created.id)


def test_a_member_that_leaves_no_longer_sees_or_is_seen(session, world, group):
    sharing.set_rule(session, world.demo, group.id, owner_id=world.demo, viewer_id=world.other,
                     kind="stock", level="summary")
    sharing.leave(session, world.other, group.id)
    assert sharing.visible(session, world.demo, world.other, "stock") == "none"
    assert sharing.visible(session, world.other, world.demo, "stock") == "none"
    with pytest.raises(sharing.NotShared):
        sharing.shared_stock(session, world.demo, world.other, "X100")
    assert sharing.rules(session, world.demo, group.id) == []
    assert [m.enterprise_code for m in sharing.members(session, world.demo, group.id)] == ["DEMO"]
    assert sharing.groups_of(session, world.other) == []


def test_dissolving_removes_the_group_its_members_and_all_rules(session, world, group):
    sharing.set_rule(session, world.demo, group.id, owner_id=world.demo, viewer_id=world.other,
                     kind="orders", level="summary")
    with pytest.raises(Conflict):
        sharing.leave(session, world.demo, group.id)  # the creator dissolves instead
    sharing.dissolve(session, world.demo, group.id)
    assert count(session, sharing.ShareRule) == count(session, sharing.ShareMember) == 0
    assert count(session, sharing.ShareGroup) == 0
    assert sharing.visible(session, world.demo, world.other, "stock") == "none"


def test_only_the_creating_tenant_changes_the_group(session, world, group):
    for call in (
        lambda: sharing.invite(session, world.other, group.id, "DEMO"),
        lambda: sharing.set_rule(session, world.other, group.id, owner_id=world.demo, viewer_id=world.other,
                                 kind="stock", level="everything"),
        lambda: sharing.dissolve(session, world.other, group.id),
    ):
        with pytest.raises(sharing.GroupNotFound):
            call()
    assert sharing.visible(session, world.other, world.demo, "stock") == "none"


def test_a_tenant_outside_the_group_sees_and_reaches_nothing(session, world, group):
    third = Enterprise(code="THIRD", name="第三家", extension="03")
    session.add(third)
    session.flush()
    services.ensure_open(session, third.id)
    assert sharing.visible(session, third.id, world.other, "stock") == "none"
    for call in (
        lambda: sharing.accept(session, third.id, group.id),
        lambda: sharing.leave(session, third.id, group.id),
        lambda: sharing.members(session, third.id, group.id),
        lambda: sharing.rules(session, third.id, group.id),
        lambda: sharing.set_rule(session, world.demo, group.id, owner_id=world.other, viewer_id=third.id,
                                 kind="stock", level="detail"),
    ):
        with pytest.raises(NotFound):
            call()


def test_invitees_are_named_by_cloud_and_enterprise_code(session, world):
    cloud = clouds.create_cloud(session, "south", "South cloud")
    far = Enterprise(code="FAR", name="远方", extension="04", cloud_id=cloud.id)
    session.add(far)
    session.flush()
    created = sharing.create_group(session, world.demo, "g")
    with pytest.raises(NotFound):
        sharing.invite(session, world.demo, created.id, "FAR")  # not on the default cloud
    member = sharing.invite(session, world.demo, created.id, "FAR", "south")
    assert member.enterprise_id == far.id
    remote = sharing.invite(session, world.demo, created.id, "ELSEWHERE", "south")  # known cloud, not hosted here
    assert (remote.enterprise_id, remote.state) == (None, "invited")
    with pytest.raises(NotFound):
        sharing.invite(session, world.demo, created.id, "NOBODY", "nowhere")
    with pytest.raises(Conflict):
        sharing.invite(session, world.demo, created.id, "FAR", "south")


def test_bad_rules_and_names_are_refused(session, world, group):
    for kw in (dict(kind="salaries", level="detail"), dict(kind="stock", level="all"),
               dict(kind="stock", level="detail", owner_id=world.demo)):
        args = dict(owner_id=world.other, viewer_id=world.demo, **{k: v for k, v in kw.items() if k != "owner_id"})
        if "owner_id" in kw:
            args["owner_id"] = kw["owner_id"]
        with pytest.raises(sharing.InvalidShare):
            sharing.set_rule(session, world.demo, group.id, **args)
    with pytest.raises(sharing.InvalidShare):
        sharing.create_group(session, world.demo, "  ")
    with pytest.raises(PermissionDenied):
        sharing.create_group(session, world.demo, "g", actor_user_id=world.users["zhang"])


def test_an_item_the_owner_does_not_stock_is_not_found(session, world, group):
    with pytest.raises(NotFound) as caught:
        sharing.shared_stock(session, world.demo, world.other, "N200")
    assert caught.value.code == "item.not_found"
