"""The operator console's pages over loopback HTTP: enterprise platforms created, their
services opened, changed and closed with the request and billing history, their users
managed; bad input gets a clear message and changes nothing; every page well-formed."""
from __future__ import annotations

import html
import re

import pytest
import pytest_twisted
from sqlalchemy import func, select

from erpcore import auth, people, services
from erpcore.db import session_scope
from erpcore.services import ServiceRequest
from erpcore.tenants import Enterprise
from erpcore.users import User
from tests.web import validators
from tests.web.conftest import OPERATOR_TOKEN
from tests.web.console_client import csrf_of
from tests.web.world import PASSWORDS

ACME = {"code": "ACME", "name": "顶点公司", "name_en": "Acme", "extension": "07", "lang": "en",
        "admin_username": "boss", "admin_display_name": "The Boss", "admin_msisdn": "13700000007",
        "admin_password": "boss-password"}


def text_of(answer) -> str:
    return html.unescape(answer.text)


def counts(sessionmaker) -> tuple[int, int, int]:
    """(enterprises, users, service requests) in the database."""
    with session_scope(sessionmaker) as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) for model in (Enterprise, User, ServiceRequest))


def user_row(sessionmaker, enterprise_code: str, username: str) -> dict:
    with session_scope(sessionmaker) as s:
        user = s.scalars(select(User).join(Enterprise, Enterprise.id == User.enterprise_id).where(
            Enterprise.code == enterprise_code, User.username == username)).one()
        return people.snapshot(user)


async def create_acme(operator, modules=("stock",)):
    fields = list(ACME.items()) + [("modules", m) for m in modules]
    return await operator.form_post("/console/new-enterprise", "/console/enterprises", fields)


@pytest_twisted.ensureDeferred
async def test_the_list_shows_every_enterprise_platform(operator):
    await operator.sign_in(OPERATOR_TOKEN)
    page = await operator.get("/console/")
    assert page.status == 200 and page.content_type == "text/html; charset=utf-8"
    assert '<a href="/console/enterprises/DEMO">DEMO</a>' in page.text
    assert '<a href="/console/enterprises/OTHER">OTHER</a>' in page.text and "别家公司" in page.text


@pytest_twisted.ensureDeferred
async def test_an_enterprise_platform_is_created_with_its_admin_and_services(operator, sessionmaker):
    await operator.sign_in(OPERATOR_TOKEN)
    created = await create_acme(operator, modules=("stock", "orders"))
    assert created.status == 303 and created.location == "/console/enterprises/ACME"
    page = await operator.get(created.location)
    assert "Enterprise platform ACME created." in page.text
    assert '<td id="state-stock">open</td>' in page.text and '<td id="state-orders">open</td>' in page.text
    assert '<td id="state-approval">never</td>' in page.text
    assert "<td>boss</td><td>The Boss</td><td>admin</td><td>13700000007</td>" in page.text
    with session_scope(sessionmaker) as s:
        acme = services.get_enterprise_by_code(s, "ACME")
        assert (acme.name, acme.extension, acme.lang) == ("顶点公司", "07", "en")
        assert services.is_open(s, acme.id, "orders")
        assert auth.authenticate(s, "ACME", "boss", "boss-password").username == "boss"
        history = services.request_history(s, acme.id)
    assert [(r["action"], r["module"], r["requested_by"]) for r in reversed(history)] == [
        ("create", "platform", "operator-console"), ("open", "stock", "operator-console"),
        ("open", "orders", "operator-console")]


@pytest.mark.parametrize("change, status, message", [
    ({"code": "A"}, 400, "an enterprise code is 2-32 letters, digits, - or _"),
    ({"code": "DEMO"}, 409, "an enterprise with this code exists"),
    ({"extension": "01"}, 409, "an enterprise with this extension exists"),
    ({"extension": "7x"}, 400, "an extension is 1-8 digits"),
    ({"name": " "}, 400, "an enterprise needs a name"),
    ({"admin_password": "abc"}, 400, "a password has 6 to 256 characters"),
    ({"admin_msisdn": "phone"}, 400, "not a phone number: 'phone'"),
    ({"lang": "fr"}, 400, "lang is one of zh, en"),
    ({"cloud": "NOWHERE"}, 404, "NOWHERE"),
    ({"modules": "payroll"}, 400, "unknown module 'payroll'"),
])
@pytest_twisted.ensureDeferred
async def test_a_bad_new_enterprise_is_refused_clearly_and_nothing_is_created(
        operator, sessionmaker, change, status, message):
    await operator.sign_in(OPERATOR_TOKEN)
    before = counts(sessionmaker)
    answer = await operator.form_post("/console/new-enterprise", "/console/enterprises", {**ACME, **change})
    assert answer.status == status and message in text_of(answer)
    assert 'class="error"' in answer.text and "boss-password" not in answer.text  # no secret echoed
    assert f'value="{html.escape((ACME | change)["name"], quote=True)}"' in answer.text  # the form as typed
    assert counts(sessionmaker) == before


@pytest_twisted.ensureDeferred
async def test_a_service_is_opened_changed_and_closed_and_the_history_shows_each_request(
        operator, sessionmaker):
    await operator.sign_in(OPERATOR_TOKEN)
    await create_acme(operator, modules=())
    page = "/console/enterprises/ACME"
    action = "/console/enterprises/ACME/services/orders"
    opened = await operator.form_post(page, action, {"action": "open", "params": '{"limit": 5}'})
    assert opened.status == 303 and opened.location == "/console/enterprises/ACME"
    assert "Service orders: open done, now open." in (await operator.get(page)).text
    await operator.form_post(page, action, {"action": "change", "params": '{"limit": 9}'})
    shown = await operator.get(page)
    assert '<td id="state-orders">open</td><td>{&#34;limit&#34;: 9}</td>' in shown.text
    await operator.form_post(page, action, {"action": "close"})
    with session_scope(sessionmaker) as s:
        acme = services.get_enterprise_by_code(s, "ACME")
        assert not services.is_open(s, acme.id, "orders")
        history = services.request_history(s, acme.id)
    assert [(r["action"], r["module"], r["params"], r["result"]) for r in history[:3]] == [
        ("close", "orders", {}, "ok"), ("change", "orders", {"limit": 9}, "ok"), ("open", "orders", {"limit": 5}, "ok")]
    final = await operator.get(page)
    assert '<td id="state-orders">closed</td>' in final.text
    assert final.text.count("<td>operator-console</td>") == 4  # create + open, change, close


@pytest_twisted.ensureDeferred
async def test_refused_service_requests_change_nothing_and_erpcores_own_refusals_are_on_record(
        operator, sessionmaker, world):
    await operator.sign_in(OPERATOR_TOKEN)
    page = "/console/enterprises/DEMO"
    before = counts(sessionmaker)
    bad_json = await operator.form_post(page, "/console/enterprises/DEMO/services/stock",
                                        {"action": "change", "params": "{limit: 5", "module": "stock"})
    assert bad_json.status == 400 and "Parameters are a JSON object" in text_of(bad_json)
    assert 'value="{limit: 5"' in bad_json.text  # the box keeps what was typed
    bad_action = await operator.form_post(page, "/console/enterprises/DEMO/services/stock", {"action": "drop"})
    assert bad_action.status == 400 and "Choose open, change or close." in bad_action.text
    assert counts(sessionmaker) == before, "a form the console refuses is not a service request"
    twice = await operator.form_post(page, "/console/enterprises/DEMO/services/stock", {"action": "open"})
    assert twice.status == 409 and "module &#39;stock&#39; is already open" in twice.text
    assert "<td class=\"refused\">refused: service.already_open" in twice.text  # on record, shown at once
    with session_scope(sessionmaker) as s:
        assert services.is_open(s, world.demo, "stock")
        [last] = services.request_history(s, world.demo, 1)
    assert (last["action"], last["result"], last["error_code"]) == ("open", "refused", "service.already_open")


@pytest_twisted.ensureDeferred
async def test_the_history_shows_the_billing_state_of_each_request(operator):
    def failing_hook(request):
        raise RuntimeError("CRM down")

    previous = services.set_billing_hook(failing_hook)
    try:
        await operator.sign_in(OPERATOR_TOKEN)
        await operator.form_post("/console/enterprises/DEMO", "/console/enterprises/DEMO/services/stock",
                                 {"action": "change", "params": '{"x": 1}'})
    finally:
        services.set_billing_hook(previous)
    page = await operator.get("/console/enterprises/DEMO")
    assert "<td>change</td><td>stock</td>" in page.text
    assert "retry, 1 attempt(s): RuntimeError(&#39;CRM down&#39;)" in page.text


@pytest_twisted.ensureDeferred
async def test_users_are_added_and_their_role_phone_and_push_flag_changed(operator, sessionmaker):
    await operator.sign_in(OPERATOR_TOKEN)
    await create_acme(operator)
    added = await operator.form_post("/console/enterprises/ACME", "/console/enterprises/ACME/users", {
        "username": "li", "display_name": "李四", "msisdn": "+86 137-0000-0008", "role": "manager",
        "lang": "zh", "password": "li-password", "push_capable": "on"})
    assert added.status == 303 and added.location.startswith("/console/enterprises/ACME/users/")
    assert "User li added." in (await operator.get(added.location)).text
    assert user_row(sessionmaker, "ACME", "li") | {"id": 0, "site_id": None} == {
        "id": 0, "username": "li", "display_name": "李四", "msisdn": "13700000008", "lang": "zh",
        "site_id": None, "role": "manager", "active": True, "push_capable": True}
    changed = await operator.form_post(added.location, added.location, {
        "display_name": "李四", "role": "finance", "lang": "", "msisdn": "13700000009"})  # push box unticked
    assert changed.status == 303
    assert "User li: lang, msisdn, push_capable, role changed." in (await operator.get(added.location)).text
    row = user_row(sessionmaker, "ACME", "li")
    assert (row["role"], row["lang"], row["msisdn"], row["push_capable"]) == ("finance", None, "13700000009", False)
    again = await operator.form_post(added.location, added.location, {
        "display_name": "李四", "role": "finance", "lang": "", "msisdn": "13700000009"})
    assert "Nothing to change." in (await operator.get(again.location)).text


@pytest.mark.parametrize("fields, status, message", [
    ({"username": "li", "display_name": "Li", "msisdn": "abc"}, 400, "not a phone number: 'abc'"),
    ({"username": "zhang", "display_name": "Z"}, 409, "user 'zhang' exists"),
    ({"username": "li", "display_name": "Li", "msisdn": "13800000001"}, 409, "13800000001 is bound to another user"),
    ({"username": "li li", "display_name": "Li"}, 400, "a username is 1-64 letters"),
    ({"username": "li", "display_name": "Li", "role": "emperor"}, 400, "unknown role 'emperor'"),
    ({"username": "li", "display_name": "Li", "password": "short"}, 400, "a password has 6 to 256 characters"),
])
@pytest_twisted.ensureDeferred
async def test_a_bad_new_user_is_refused_clearly_and_not_added(operator, sessionmaker, fields, status, message):
    await operator.sign_in(OPERATOR_TOKEN)
    before = counts(sessionmaker)
    answer = await operator.form_post("/console/enterprises/DEMO", "/console/enterprises/DEMO/users", fields)
    assert answer.status == status and message in text_of(answer)
    assert f'name="username" value="{fields["username"]}"' in answer.text
    assert counts(sessionmaker) == before


@pytest_twisted.ensureDeferred
async def test_a_user_change_is_all_or_nothing(operator, sessionmaker, world):
    await operator.sign_in(OPERATOR_TOKEN)
    path = f"/console/enterprises/DEMO/users/{world.users['zhang']}"
    before = user_row(sessionmaker, "DEMO", "zhang")
    for fields, status, message in [
        ({"display_name": "张伟", "role": "emperor", "msisdn": "13800000099"}, 400, "unknown role 'emperor'"),
        ({"display_name": "张伟", "role": "manager", "msisdn": "13800000002"}, 409, "bound to another user"),
        ({"display_name": "", "role": "manager", "msisdn": "13800000099"}, 400, "a display name has 1 to 128"),
    ]:
        answer = await operator.form_post(path, path, {"lang": "zh", "push_capable": "on", **fields})
        assert answer.status == status and message in text_of(answer)
        assert user_row(sessionmaker, "DEMO", "zhang") == before
    other_tenant = await operator.get(f"/console/enterprises/OTHER/users/{world.users['zhang']}")
    assert other_tenant.status == 404 and "zhang" not in other_tenant.text


@pytest_twisted.ensureDeferred
async def test_a_password_is_reset_and_a_lockout_ended(operator, sessionmaker, world):
    with session_scope(sessionmaker) as s:  # five wrong passwords lock zhang out
        zhang = s.get(User, world.users["zhang"])
        for _ in range(auth.MAX_FAILURES):
            auth.verify_password(s, zhang, "not-it")
    path = f"/console/enterprises/DEMO/users/{world.users['zhang']}"
    await operator.sign_in(OPERATOR_TOKEN)
    page = await operator.get(path)
    assert "Locked out after wrong passwords until" in page.text
    listed = await operator.get("/console/enterprises/DEMO")
    [zhang_row] = [row for row in listed.text.split("<tr>") if row.startswith("<td>zhang</td>")]
    assert re.search(r"<td>\d{4}-\d\d-\d\dT[\d:.]+</td>", zhang_row)  # locked until then
    unlocked = await operator.form_post(path, path + "/unlock", {})
    assert "User zhang unlocked." in (await operator.get(unlocked.location)).text
    with session_scope(sessionmaker) as s:
        assert auth.authenticate(s, "DEMO", "zhang", PASSWORDS["zhang"]).username == "zhang"
    nothing = await operator.form_post(path, path + "/unlock", {})
    assert "User zhang was not locked out; nothing to do." in (await operator.get(nothing.location)).text

    differ = await operator.form_post(path, path + "/password", {"password": "new-secret", "confirm": "new-secreT"})
    weak = await operator.form_post(path, path + "/password", {"password": "abc", "confirm": "abc"})
    assert (differ.status, weak.status) == (400, 400)
    assert "The two passwords differ; nothing changed." in differ.text and "a password has 6" in weak.text
    assert "new-secret" not in differ.text
    reset = await operator.form_post(path, path + "/password", {"password": "new-secret", "confirm": "new-secret"})
    assert "Password of zhang reset." in (await operator.get(reset.location)).text
    with session_scope(sessionmaker) as s:
        assert auth.authenticate(s, "DEMO", "zhang", "new-secret").username == "zhang"
        with pytest.raises(auth.AuthenticationFailed):
            auth.authenticate(s, "DEMO", "zhang", PASSWORDS["zhang"])


@pytest_twisted.ensureDeferred
async def test_every_console_page_is_well_formed_and_escapes_what_it_shows(operator, sessionmaker):
    hostile = '<script>alert(1)</script> & "q" \'s'
    await operator.sign_in(OPERATOR_TOKEN)
    pages = {"sign_in": (await operator.__class__(operator.base).get("/console/sign-in")).body}
    await operator.form_post("/console/new-enterprise", "/console/enterprises",
                             {**ACME, "name": hostile, "name_en": hostile})
    added = await operator.form_post("/console/enterprises/ACME", "/console/enterprises/ACME/users",
                                     {"username": "evil", "display_name": hostile, "push_capable": "on"})
    await operator.form_post("/console/enterprises/ACME", "/console/enterprises/ACME/services/orders",
                             {"action": "open", "params": '{"note": "</td><b>x</b>"}'})
    pages["list"] = (await operator.get("/console/")).body
    pages["new"] = (await operator.get("/console/new-enterprise")).body
    pages["enterprise"] = (await operator.get("/console/enterprises/ACME")).body
    pages["user"] = (await operator.get(added.location)).body
    pages["refused_form"] = (await operator.form_post("/console/new-enterprise", "/console/enterprises",
                                                      {**ACME, "code": "x", "name": hostile})).body
    pages["refused_user"] = (await operator.form_post(
        added.location, added.location, {"display_name": hostile, "role": "emperor"})).body
    pages["not_found"] = (await operator.get("/console/enterprises/NOPE")).body
    problems = {name: validators.check_console_html(body) for name, body in pages.items()}
    assert {name: p for name, p in problems.items() if p} == {}
    for name, body in pages.items():
        assert b"<script>" not in body and b"<b>x</b>" not in body, name
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;q&#34; &#39;s" in pages["enterprise"]
    assert csrf_of(pages["enterprise"]) and csrf_of(pages["user"])
