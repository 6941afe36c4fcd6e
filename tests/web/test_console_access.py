"""Who gets into the operator console: sign-in with the operator token, the session
cookie and its expiry, CSRF on every POST, sign-out; nobody else sees or changes a thing."""
from __future__ import annotations

import html
import re

import pytest
import pytest_twisted
from sqlalchemy import func, select

from erpcore import services
from erpcore.db import session_scope
from erpcore.tenants import Enterprise
from gateway.web.sign_in_throttle import LOCKOUT_SECONDS
from tests.web.conftest import OPERATOR_TOKEN
from tests.web.console_client import ConsoleClient, csrf_of

NEW = {"code": "ACME", "name": "Acme", "extension": "07", "lang": "en"}


def enterprise_count(sessionmaker) -> int:
    with session_scope(sessionmaker) as s:
        return s.scalar(select(func.count()).select_from(Enterprise))


def stock_open(sessionmaker, world) -> bool:
    with session_scope(sessionmaker) as s:
        return services.is_open(s, world.demo, "stock")


@pytest_twisted.ensureDeferred
async def test_without_a_session_every_page_sends_to_sign_in_and_no_form_acts(operator, world, sessionmaker):
    for path in ("/console/", "/console/enterprises/DEMO", "/console/new-enterprise",
                 f"/console/enterprises/DEMO/users/{world.users['zhang']}"):
        answer = await operator.get(path)
        assert answer.status == 303, path
        assert answer.location.startswith("/console/sign-in"), path
    assert (await operator.get("/console/enterprises/DEMO")).location == \
        "/console/sign-in?next=%2Fconsole%2Fenterprises%2FDEMO"
    before = enterprise_count(sessionmaker)
    created = await operator.post("/console/enterprises", {**NEW, "csrf": "x"})
    closed = await operator.post("/console/enterprises/DEMO/services/stock", {"action": "close", "csrf": "x"})
    assert created.status == closed.status == 303 and created.location == "/console/sign-in"
    assert enterprise_count(sessionmaker) == before and stock_open(sessionmaker, world)


@pytest_twisted.ensureDeferred
async def test_a_wrong_token_is_refused_with_one_answer_that_reveals_nothing(operator, operator_site):
    _base, _console, clock = operator_site
    bodies = set()
    for wrong in ("", "wrong-guess", OPERATOR_TOKEN[:-1], OPERATOR_TOKEN + "0", OPERATOR_TOKEN.upper(), "y" * 3000):
        clock.now += LOCKOUT_SECONDS  # far enough apart that the sign-in throttle never locks
        answer = await operator.sign_in(wrong)
        assert answer.status == 403 and "Sign-in refused." in answer.text
        assert OPERATOR_TOKEN[:-1] not in answer.text and (not wrong or wrong not in answer.text)
        bodies.add(answer.body.replace(csrf_of(answer).encode(), b"CSRF"))
    assert len(bodies) == 1, "every wrong token gets the very same page"
    assert operator.cookie is None and not any("merp_console=" in c for c in operator.set_cookies)
    assert (await operator.get("/console/")).status == 303


@pytest_twisted.ensureDeferred
async def test_signing_in_gives_a_strict_http_only_cookie_and_returns_to_the_page_asked(operator):
    answer = await operator.sign_in(OPERATOR_TOKEN, "/console/enterprises/DEMO")
    assert answer.status == 303 and answer.location == "/console/enterprises/DEMO"
    [cookie] = [c for c in operator.set_cookies if c.startswith("merp_console=")]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console", "max-age=28800"} <= flags
    page = await operator.get(answer.location)
    assert page.status == 200 and "<h1>Enterprise DEMO</h1>" in page.text


@pytest.mark.parametrize("nxt", ["http://evil.example/", "//evil.example/x", "/wap/menu", "/console/\\evil"])
@pytest_twisted.ensureDeferred
async def test_after_sign_in_only_a_console_page_may_follow(operator, nxt):
    answer = await operator.sign_in(OPERATOR_TOKEN, nxt)
    assert answer.status == 303 and answer.location == "/console/"


@pytest_twisted.ensureDeferred
async def test_the_sign_in_form_needs_its_own_unexpired_csrf_token(operator, operator_site):
    _base, _console, clock = operator_site
    for forged in (None, "", "123.abc", "9999999999.0123456789abcdef0123"):
        fields = {"token": OPERATOR_TOKEN} | ({"csrf": forged} if forged is not None else {})
        answer = await operator.post("/console/sign-in", fields)
        assert answer.status == 403 and "The form expired" in answer.text and operator.cookie is None
    form = await operator.get("/console/sign-in")
    clock.now += 3601
    late = await operator.post("/console/sign-in", {"token": OPERATOR_TOKEN, "csrf": csrf_of(form)})
    assert late.status == 403 and operator.cookie is None


@pytest_twisted.ensureDeferred
async def test_a_post_without_the_sessions_csrf_token_changes_nothing(operator, world, sessionmaker):
    await operator.sign_in(OPERATOR_TOKEN)
    other = ConsoleClient(operator.base)
    await other.sign_in(OPERATOR_TOKEN)
    others_token = csrf_of(await other.get("/console/"))
    before = enterprise_count(sessionmaker)
    for csrf in (None, "", "forged", others_token):
        fields = {**NEW} | ({"csrf": csrf} if csrf is not None else {})
        created = await operator.post("/console/enterprises", fields)
        closed = await operator.post("/console/enterprises/DEMO/services/stock",
                                     {"action": "close"} | ({"csrf": csrf} if csrf is not None else {}))
        assert created.status == closed.status == 403 and "Nothing changed." in created.text
    assert enterprise_count(sessionmaker) == before and stock_open(sessionmaker, world)


@pytest_twisted.ensureDeferred
async def test_signing_out_ends_the_session_for_good(operator):
    await operator.sign_in(OPERATOR_TOKEN)
    kept = operator.cookie
    page = await operator.get("/console/")
    out = await operator.post("/console/sign-out", {"csrf": csrf_of(page)})
    assert out.status == 303 and out.location == "/console/sign-in" and operator.cookie is None
    operator.cookie = kept  # a copy of the old cookie is worth nothing now
    assert (await operator.get("/console/")).status == 303


@pytest_twisted.ensureDeferred
async def test_a_session_ends_after_idle_time_and_at_the_latest_after_eight_hours(operator, operator_site):
    _base, _console, clock = operator_site
    await operator.sign_in(OPERATOR_TOKEN)
    clock.now += 1799
    assert (await operator.get("/console/")).status == 200  # activity restarts the idle timer
    clock.now += 1801
    assert (await operator.get("/console/")).status == 303
    await operator.sign_in(OPERATOR_TOKEN)
    for _ in range(28):  # active every 1,000 s: still ends 8 hours after signing in
        clock.now += 1000
        status = (await operator.get("/console/")).status
        assert status == 200
    clock.now += 1000
    assert (await operator.get("/console/")).status == 303


@pytest_twisted.ensureDeferred
async def test_unknown_pages_and_wrong_methods_get_plain_refusals(operator):
    await operator.sign_in(OPERATOR_TOKEN)
    missing = await operator.get("/console/nowhere")
    wrong = await operator.get("/console/enterprises/DEMO/services/stock")
    put = await operator._request(b"PUT", "/console/", b"")
    gone = await operator.get("/console/enterprises/NOPE")
    assert (missing.status, wrong.status, put.status, gone.status) == (404, 405, 405, 404)
    assert "No such page." in missing.text and "no enterprise 'NOPE'" in html.unescape(gone.text)
    assert re.search(r"<h1>Not found</h1>", gone.text)
