"""Service lifecycle (seed 000 figs. 5-7): platform creation, open/change/close from the
operator console or the admin's phone, each request recorded and reported to billing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from erpcore import audit, auth, services
from erpcore.auth import AccountLocked, AuthenticationFailed
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from erpcore.services import ServiceClosed, ServiceRequest
from erpcore.tenants import Enterprise
from erpcore.users import User


@pytest.fixture
def billing():
    """A billing hook that remembers what it was told; fails while `fail` is set."""
    class Hook:
        def __init__(self):
            self.calls, self.fail = [], False

        def __call__(self, request):
            if self.fail:
                raise ConnectionError("CRM down")
            self.calls.append(request)

    hook = Hook()
    previous = services.set_billing_hook(hook)
    yield hook
    services.set_billing_hook(previous)


def _acme(session, **kw):
    return services.create_enterprise_platform(
        session, code="ACME", name="顶点公司", extension="07", admin_username="admin",
        admin_msisdn="13700000007", admin_password="acme-admin-pw", **kw,
    )


def _requests(session):
    return session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).all()


def test_operator_opens_stock_and_orders_and_the_admin_closes_orders_by_phone(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session)
        services.open_service(session, acme.id, "stock")
        services.open_service(session, acme.id, "orders", {"approval_limit": "5000.00"})
    with session_scope(seeded) as session:
        assert services.is_open(session, acme.id, "stock") and services.is_open(session, acme.id, "orders")
        assert not services.is_open(session, acme.id, "tasks")
        request = services.request_from_phone(session, "ACME", "acme-admin-pw", "close", "orders")
        assert request.ok and request.channel == "phone" and request.requested_by == "phone:admin"
    with session_scope(seeded) as session:
        assert not services.is_open(session, acme.id, "orders") and services.is_open(session, acme.id, "stock")
        with pytest.raises(ServiceClosed) as closed:
            services.require_open(session, acme.id, "orders")
        assert closed.value.code == "service.closed"
        assert [(c["action"], c["module"], c["result"]) for c in billing.calls] == [
            ("create", "platform", "ok"), ("open", "stock", "ok"), ("open", "orders", "ok"),
            ("close", "orders", "ok"),
        ]
        assert {r.billing_state for r in _requests(session) if r.enterprise_id == acme.id} == {"reported"}
        (close,) = [e for e in audit.history(session, acme.id, "service", "orders") if e.action == "service.close"]
        assert close.before["state"] == "open" and close.after["state"] == "closed"


def test_a_wrong_phone_password_refuses_changes_nothing_and_is_reported(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session, modules=("orders",))
    with session_scope(seeded) as session:
        with pytest.raises(AuthenticationFailed):
            services.request_from_phone(session, "ACME", "guess-guess", "close", "orders")
    with session_scope(seeded) as session:
        assert services.is_open(session, acme.id, "orders")
        last = _requests(session)[-1]
        assert (last.action, last.module, last.result, last.error_code) == ("close", "orders", "refused", "auth.failed")
        assert billing.calls[-1]["result"] == "refused"


def test_an_unknown_enterprise_code_from_a_phone_is_refused_like_a_wrong_password(seeded, billing):
    with session_scope(seeded) as session:
        with pytest.raises(AuthenticationFailed):
            services.request_from_phone(session, "NOPE", "whatever1", "open", "stock")
        assert _requests(session)[-1].enterprise_id is None


def test_phone_guessing_locks_the_admin(seeded, billing):
    with session_scope(seeded) as session:
        _acme(session, modules=("orders",))
    for _ in range(auth.MAX_FAILURES):
        with session_scope(seeded) as session:
            with pytest.raises(AuthenticationFailed):
                services.request_from_phone(session, "ACME", "guess-guess", "close", "orders")
    with session_scope(seeded) as session:
        with pytest.raises(AccountLocked):
            services.request_from_phone(session, "ACME", "acme-admin-pw", "close", "orders")


def test_a_clerk_password_from_the_phone_is_not_enough(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session, modules=("orders",))
        clerk = session.scalars(select(User).where(User.enterprise_id == acme.id)).one()
        from erpcore import people

        clerk2 = people.create_user(session, acme.id, None, username="c", display_name="C",
                                    msisdn="13700000008", password="clerk-pw-1")
        assert clerk.role == "admin" and clerk2.role == "clerk"
    with session_scope(seeded) as session:
        with pytest.raises(AuthenticationFailed):
            services.request_from_phone(session, "ACME", "clerk-pw-1", "close", "orders", msisdn="13700000008")
        with pytest.raises(AuthenticationFailed):
            services.request_from_phone(session, "ACME", "clerk-pw-1", "close", "orders")
    with session_scope(seeded) as session:
        assert services.is_open(session, acme.id, "orders")


def test_a_failing_billing_hook_keeps_the_change_and_marks_it_for_retry(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session)
        billing.fail = True
        request = services.open_service(session, acme.id, "alerts")
        assert request.billing_state == "retry" and "CRM down" in request.billing_error
    with session_scope(seeded) as session:
        assert services.is_open(session, acme.id, "alerts")
        billing.fail = False
        assert services.retry_billing(session) == 1
        assert session.get(ServiceRequest, request.id).billing_state == "reported"
        assert billing.calls[-1]["module"] == "alerts"


def test_without_a_hook_the_table_is_the_record(seeded):
    with session_scope(seeded) as session:
        acme = _acme(session)
        request = services.open_service(session, acme.id, "tasks", requested_by="crm:li")
        assert (request.billing_state, request.requested_by) == ("recorded", "crm:li")


def test_change_replaces_params_and_needs_an_open_module(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session, modules=("alerts",))
        services.change_service(session, acme.id, "alerts", {"threshold": 5})
        state = {s["module"]: s for s in services.list_services(session, acme.id)}
        assert state["alerts"]["params"] == {"threshold": 5} and state["sync"]["state"] == "never"
        with pytest.raises(ServiceClosed):
            services.change_service(session, acme.id, "sync", {"x": 1})
        with pytest.raises(Conflict) as again:
            services.open_service(session, acme.id, "alerts")
        assert again.value.code == "service.already_open"
        assert [r.result for r in _requests(session)][-2:] == ["refused", "refused"]


def test_bad_requests_get_clear_errors(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session)
        for call, code in [
            (lambda: services.open_service(session, acme.id, "payroll"), "service.unknown_module"),
            (lambda: services.open_service(session, acme.id, "stock", ["x"]), "service.bad_params"),
            (lambda: services.open_service(session, acme.id, "stock", {"x": "y" * 3000}), "service.bad_params"),
            (lambda: services.request_from_phone(session, "ACME", "acme-admin-pw", "explode", "stock"),
             "service.bad_action"),
        ]:
            with pytest.raises(InvalidInput) as error:
                call()
            assert error.value.code == code
        with pytest.raises(NotFound):
            services.open_service(session, 999999, "stock")
        assert not services.is_open(session, acme.id, "stock")


def test_creating_a_platform_validates_and_refuses_duplicates(seeded):
    with session_scope(seeded) as session:
        for kw, code in [
            (dict(code="A B", name="x", extension="09"), "enterprise.bad_code"),
            (dict(code="ACME2", name="", extension="09"), "enterprise.bad_name"),
            (dict(code="ACME2", name="x", extension="9a"), "enterprise.bad_extension"),
            (dict(code="ACME2", name="x", extension="09", lang="fr"), "enterprise.bad_lang"),
            (dict(code="DEMO", name="x", extension="09"), "enterprise.exists"),
            (dict(code="ACME2", name="x", extension="01"), "enterprise.exists"),
            (dict(code="ACME2", name="x", extension="09", modules=("payroll",)), "service.unknown_module"),
        ]:
            with pytest.raises((InvalidInput, Conflict)) as error:
                services.create_enterprise_platform(session, **kw)
            assert error.value.code == code
        with pytest.raises(NotFound):
            services.create_enterprise_platform(session, code="ACME2", name="x", extension="09", cloud_code="mars")
        assert session.scalar(select(func.count()).select_from(Enterprise)) == 2


def test_the_demo_seed_opens_every_module_once(seeded):
    with session_scope(seeded) as session:
        demo = seed_demo(session)
        assert all(services.is_open(session, demo.id, module) for module in services.MODULES)
        count = session.scalar(select(func.count()).select_from(ServiceRequest))
        seed_demo(session)
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == count


# -- tenant isolation ---------------------------------------------------------------------

def test_a_module_open_in_one_tenant_is_closed_in_another(seeded):
    with session_scope(seeded) as session:
        other = session.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one()
        assert not services.is_open(session, other.id, "stock")
        with pytest.raises(ServiceClosed):
            services.require_open(session, other.id, "stock")


def test_a_user_of_another_tenant_cannot_manage_services(seeded, billing):
    with session_scope(seeded) as session:
        acme = _acme(session, modules=("orders",))
        acme_admin = session.scalars(select(User).where(User.enterprise_id == acme.id)).one()
        other = session.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one()
        with pytest.raises(PermissionDenied):
            services.open_service(session, other.id, "stock", actor_user_id=acme_admin.id)
        assert not services.is_open(session, other.id, "stock")
        services.close_service(session, acme.id, "orders", actor_user_id=acme_admin.id)
        assert not services.is_open(session, acme.id, "orders")


def test_the_phone_password_of_one_enterprise_does_not_open_another(seeded, billing):
    with session_scope(seeded) as session:
        _acme(session)
        other = session.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one()
        with pytest.raises(AuthenticationFailed):
            services.request_from_phone(session, "OTHER", "acme-admin-pw", "open", "stock")
        assert not services.is_open(session, other.id, "stock")
