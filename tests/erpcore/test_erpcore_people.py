"""User management, roles and the audit trail (issue 3 point 1; seed 003 RBAC)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from erpcore import audit, people, rbac
from erpcore.audit import AuditEntry
from erpcore.clouds import create_cloud, get_cloud
from erpcore.db import session_scope
from erpcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from erpcore.tenants import Enterprise, get_by_extension
from erpcore.users import User, find_by_msisdn


def _ent(session, code):
    return session.scalars(select(Enterprise).where(Enterprise.code == code)).one()


def _user(session, code, username):
    return session.scalars(
        select(User).where(User.enterprise_id == _ent(session, code).id, User.username == username)
    ).one()


@pytest.fixture
def admin(session):
    demo = _ent(session, "DEMO")
    return people.create_user(session, demo.id, None, username="boss", display_name="老板", role="admin")


def _audit_count(session):
    return session.scalar(select(func.count()).select_from(AuditEntry))


# -- RBAC ---------------------------------------------------------------------------------

def test_a_clerk_cannot_approve_but_a_manager_can(session):
    zhang, smith = _user(session, "DEMO", "zhang"), _user(session, "DEMO", "smith")
    assert not rbac.has_permission(session, zhang, "order.approve")
    with pytest.raises(PermissionDenied) as denied:
        rbac.require(session, zhang, "order.approve")
    assert denied.value.code == "rbac.denied"
    rbac.require(session, smith, "order.approve")


def test_an_extra_role_adds_its_permissions_and_revoking_removes_them(session):
    zhang = _user(session, "DEMO", "zhang")
    assert rbac.grant_role(session, zhang, "finance")
    assert rbac.has_permission(session, zhang, "order.approve")
    assert not rbac.grant_role(session, zhang, "finance")
    assert rbac.revoke_role(session, zhang, "finance")
    assert not rbac.has_permission(session, zhang, "order.approve")


def test_an_inactive_user_holds_no_permission(session, admin):
    smith = _user(session, "DEMO", "smith")
    people.deactivate_user(session, smith.enterprise_id, admin.id, smith.id)
    assert not rbac.has_permission(session, smith, "stock.view")


def test_a_misspelt_permission_or_role_is_refused_not_silently_denied(session):
    zhang = _user(session, "DEMO", "zhang")
    with pytest.raises(InvalidInput):
        rbac.has_permission(session, zhang, "order.aprove")
    with pytest.raises(InvalidInput):
        rbac.grant_role(session, zhang, "emperor")


# -- user management ----------------------------------------------------------------------

def test_an_admin_creates_a_user_and_the_audit_holds_the_new_row(session, admin):
    demo = _ent(session, "DEMO")
    user = people.create_user(session, demo.id, admin.id, username="li", display_name="李四",
                              msisdn="+86 138-0000-0777", role="storekeeper", lang="zh")
    assert user.msisdn == "13800000777"
    (entry,) = audit.history(session, demo.id, "user", user.id)
    assert (entry.action, entry.actor_user_id, entry.before) == ("user.create", admin.id, None)
    assert entry.after["username"] == "li" and entry.after["role"] == "storekeeper"


def test_update_is_audited_with_before_and_after(session, admin):
    zhang = _user(session, "DEMO", "zhang")
    people.update_user(session, zhang.enterprise_id, admin.id, zhang.id, display_name="张伟伟", lang="en")
    (entry,) = audit.history(session, zhang.enterprise_id, "user", zhang.id)
    assert (entry.before["display_name"], entry.after["display_name"]) == ("张伟", "张伟伟")
    assert (entry.before["lang"], entry.after["lang"]) == ("zh", "en")
    session.expire_all()
    reread = audit.history(session, zhang.enterprise_id, "user", zhang.id)[0]
    assert reread.after["display_name"] == "张伟伟"


def test_a_clerk_cannot_manage_users_and_nothing_changes(session):
    zhang, smith = _user(session, "DEMO", "zhang"), _user(session, "DEMO", "smith")
    before = _audit_count(session)
    with pytest.raises(PermissionDenied):
        people.update_user(session, zhang.enterprise_id, zhang.id, smith.id, role="admin")
    with pytest.raises(PermissionDenied):
        people.create_user(session, zhang.enterprise_id, zhang.id, username="x", display_name="X")
    assert smith.role == "manager" and _audit_count(session) == before


def test_assigning_roles_is_audited(session, admin):
    zhang = _user(session, "DEMO", "zhang")
    people.assign_role(session, zhang.enterprise_id, admin.id, zhang.id, "finance")
    people.assign_role(session, zhang.enterprise_id, admin.id, zhang.id, "manager", primary=True)
    first, second = audit.history(session, zhang.enterprise_id, "user", zhang.id)
    assert first.before == {"roles": ["clerk"]} and first.after == {"roles": ["clerk", "finance"]}
    assert (second.before["role"], second.after["role"]) == ("clerk", "manager")
    assert rbac.roles_of(session, zhang) == {"manager", "finance"}


def test_a_number_is_unique_within_an_enterprise_but_not_across(session, admin):
    demo, other = _ent(session, "DEMO"), _ent(session, "OTHER")
    li = people.create_user(session, demo.id, None, username="li", display_name="Li")
    with pytest.raises(Conflict) as taken:
        people.bind_msisdn(session, demo.id, admin.id, li.id, "13800000002")  # smith's
    assert taken.value.code == "user.msisdn_taken"
    ann = people.create_user(session, other.id, None, username="ann", display_name="Ann")
    people.bind_msisdn(session, other.id, None, ann.id, "13800000002")
    assert find_by_msisdn(session, other.id, "13800000002").username == "ann"
    assert find_by_msisdn(session, demo.id, "13800000002").username == "smith"


def test_routing_by_extension_picks_the_user_of_that_enterprise(session):
    """13800000001 belongs to a user of DEMO (01) and of OTHER (02)."""
    for extension, name in (("01", "张伟"), ("02", "Other Zhang")):
        enterprise = get_by_extension(session, extension)
        assert find_by_msisdn(session, enterprise.id, "+8613800000001").display_name == name


def test_bad_input_gets_a_clear_error(session, admin):
    demo = _ent(session, "DEMO")
    cases = [
        dict(username="no spaces", display_name="X"),
        dict(username="ok", display_name=""),
        dict(username="ok", display_name="X", msisdn="call me"),
        dict(username="ok", display_name="X", role="emperor"),
        dict(username="ok", display_name="X", lang="fr"),
        dict(username="zhang", display_name="dup"),
    ]
    codes = []
    for case in cases:
        with pytest.raises((InvalidInput, Conflict)) as error:
            people.create_user(session, demo.id, admin.id, **case)
        codes.append(error.value.code)
    assert codes == ["user.bad_username", "user.bad_display_name", "user.bad_msisdn",
                     "rbac.unknown_role", "user.bad_lang", "user.exists"]
    with pytest.raises(InvalidInput):
        people.update_user(session, demo.id, admin.id, admin.id, username="root")


def test_an_admin_cannot_deactivate_themselves(session, admin):
    with pytest.raises(Conflict):
        people.deactivate_user(session, admin.enterprise_id, admin.id, admin.id)
    assert admin.active


# -- tenant isolation ---------------------------------------------------------------------

def test_another_tenants_user_is_not_found_and_unchanged(session, admin):
    other_zhang = _user(session, "OTHER", "zhang")
    demo_id = admin.enterprise_id
    calls = [
        lambda: people.update_user(session, demo_id, admin.id, other_zhang.id, display_name="hacked"),
        lambda: people.deactivate_user(session, demo_id, admin.id, other_zhang.id),
        lambda: people.bind_msisdn(session, demo_id, admin.id, other_zhang.id, "13999999999"),
        lambda: people.assign_role(session, demo_id, admin.id, other_zhang.id, "admin"),
        lambda: people.revoke_role(session, demo_id, admin.id, other_zhang.id, "admin"),
        lambda: people.set_user_password(session, demo_id, admin.id, other_zhang.id, "secret99"),
    ]
    before = _audit_count(session)
    for call in calls:
        with pytest.raises(NotFound):
            call()
    session.refresh(other_zhang)
    assert (other_zhang.display_name, other_zhang.active, other_zhang.msisdn) == ("Other Zhang", True, "13800000001")
    assert rbac.roles_of(session, other_zhang) == {"clerk"} and _audit_count(session) == before


def test_an_admin_of_one_tenant_cannot_act_in_another(session, admin):
    other = _ent(session, "OTHER")
    other_zhang = _user(session, "OTHER", "zhang")
    with pytest.raises(PermissionDenied):
        people.update_user(session, other.id, admin.id, other_zhang.id, display_name="hacked")
    with pytest.raises(PermissionDenied):
        people.create_user(session, other.id, admin.id, username="mole", display_name="Mole")
    with pytest.raises(PermissionDenied):
        people.list_users(session, other.id, admin.id)
    assert other_zhang.display_name == "Other Zhang"


def test_a_site_of_another_tenant_cannot_be_given(session, admin):
    from erpcore.sites import Site

    other_site = session.scalars(select(Site).where(Site.code == "OWH")).one()
    with pytest.raises(NotFound):
        people.create_user(session, admin.enterprise_id, admin.id, username="li", display_name="Li",
                           site_id=other_site.id)


def test_audit_history_is_scoped_to_the_tenant(session, admin):
    demo, other = _ent(session, "DEMO"), _ent(session, "OTHER")
    audit.record(session, demo.id, None, "x.test", "thing", 1, None, {"price": __import__("decimal").Decimal("1.50")})
    assert audit.history(session, other.id, "thing", 1) == []
    (entry,) = audit.history(session, demo.id, "thing", 1)
    assert entry.after == {"price": "1.50"}


def test_an_unstorable_snapshot_fails_at_the_call(session):
    with pytest.raises(TypeError):
        audit.record(session, _ent(session, "DEMO").id, None, "x", "thing", 1, None, {"o": object()})


# -- clouds --------------------------------------------------------------------------------

def test_an_enterprise_names_its_tenant_cloud(seeded):
    with session_scope(seeded) as session:
        cloud = create_cloud(session, "east-1", "华东云", "https://east-1.example.net")
        _ent(session, "OTHER").cloud_id = cloud.id
    with session_scope(seeded) as session:
        assert _ent(session, "OTHER").cloud_id == get_cloud(session, "east-1").id
        assert _ent(session, "DEMO").cloud_id is None
        with pytest.raises(Conflict):
            create_cloud(session, "east-1", "again")
        with pytest.raises(NotFound):
            get_cloud(session, "nowhere")
