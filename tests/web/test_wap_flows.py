"""The WAP pages over HTTP on loopback: the approval flow in each markup family, signed
links, CSRF, session expiry, tenant isolation, rights, lockout and WML escaping."""
from __future__ import annotations

import re

import pytest
import pytest_twisted
from sqlalchemy import select

from erpcore import auth
from erpcore.db import session_scope
from erpcore.orders import Order
from gateway.web.wap.links import approval_link
from tests.web import validators
from tests.web.client import field
from tests.web.conftest import SECRET
from tests.web.world import PASSWORDS

FAMILIES = ("wml", "xhtml", "html")
CONTENT_TYPES = {"wml": "text/vnd.wap.wml; charset=utf-8",
                 "xhtml": "application/vnd.wap.xhtml+xml; charset=utf-8", "html": "text/html; charset=utf-8"}


def state_of(sessionmaker, enterprise_id, number):
    with session_scope(sessionmaker) as s:
        return s.scalar(select(Order.state).where(Order.enterprise_id == enterprise_id, Order.number == number))


@pytest.mark.parametrize("family", FAMILIES)
@pytest_twisted.ensureDeferred
async def test_a_manager_logs_in_lists_pending_opens_approves_and_sees_approved(
        client, world, sessionmaker, family):
    c = client(family)
    menu = await c.login("DEMO", "smith", PASSWORDS["smith"])
    assert menu.status == 200 and menu.content_type == CONTENT_TYPES[family]
    assert "Pending" in menu.text and "(6)" in menu.text
    if family == "wml":
        assert c.cookie is None and c.token  # the session rides in the URL
    else:
        assert c.cookie and c.token is None and not re.search(r"[?;]s=", menu.text)
    pending = await c.get("/wap/pending")
    number = world.numbers[2]
    assert f"/wap/doc/{number}" in pending.text
    doc = await c.get(f"/wap/doc/{number}")
    assert "Waiting for your decision." in doc.text and "Approve" in doc.text
    done = await c.post(f"/wap/doc/{number}/decide",
                        {"decision": "approve", "comment": "ok", "t": field(doc.body, "t")})
    assert done.status == 200 and "Approved." in done.text
    assert "Already approved by John Smith." in done.text
    assert state_of(sessionmaker, world.demo, number) == "approved"
    again = await c.get("/wap/pending")
    assert f"/wap/doc/{number}" not in again.text


@pytest.mark.parametrize("family", FAMILIES)
@pytest_twisted.ensureDeferred
async def test_deciding_twice_shows_the_state_instead_of_acting_again(client, world, family):
    c = client(family)
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    number = world.numbers[3]
    doc = await c.get(f"/wap/doc/{number}")
    fields = {"decision": "reject", "comment": "too dear", "t": field(doc.body, "t")}
    first = await c.post(f"/wap/doc/{number}/decide", fields)
    assert "Rejected." in first.text
    second = await c.post(f"/wap/doc/{number}/decide", {**fields, "decision": "approve"})
    assert second.status == 409 and "Already rejected by John Smith." in second.text
    assert "Approved." not in second.text


@pytest_twisted.ensureDeferred
async def test_a_rejection_without_a_reason_is_refused_with_a_message(client, world):
    c = client("html")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    doc = await c.get(f"/wap/doc/{world.numbers[0]}")
    answer = await c.post(f"/wap/doc/{world.numbers[0]}/decide",
                          {"decision": "reject", "comment": " ", "t": field(doc.body, "t")})
    assert answer.status == 400 and "A rejection needs a reason." in answer.text


@pytest.mark.parametrize("family", FAMILIES)
@pytest_twisted.ensureDeferred
async def test_a_post_without_the_csrf_token_is_refused(client, world, sessionmaker, family):
    c = client(family)
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    for token in ("", "forged"):
        answer = await c.post(f"/wap/doc/{world.numbers[0]}/decide", {"decision": "approve", "t": token})
        assert answer.status == 403
    assert state_of(sessionmaker, world.demo, world.numbers[0]) == "pending_approval"


@pytest_twisted.ensureDeferred
async def test_a_login_form_post_needs_its_signed_token(client):
    c = client("html")
    answer = await c.post("/wap/login", {"ent": "DEMO", "user": "smith", "pw": PASSWORDS["smith"], "t": "1.x"})
    assert answer.status == 403 and c.cookie is None


@pytest.mark.parametrize("family", FAMILIES)
@pytest_twisted.ensureDeferred
async def test_a_signed_link_opens_the_document_after_login(client, server, world, family):
    base = server[0]
    link = approval_link(world.demo, world.numbers[4], secret=SECRET, base_url=base, now=server[2]())
    c = client(family)
    login = await c.get(link)
    assert "Log in" in login.text and field(login.body, "next").startswith(f"/wap/doc/{world.numbers[4]}?")
    form_next = field(login.body, "next").replace("&amp;", "&")
    answer = await c.post("/wap/login", {"ent": "DEMO", "user": "smith", "pw": PASSWORDS["smith"],
                                         "t": field(login.body, "t"), "next": form_next})
    assert answer.status in (302, 303) and f"/wap/doc/{world.numbers[4]}" in answer.location
    doc = await c.get(answer.location)
    assert f"{world.numbers[4]}" in doc.text and "Waiting for your decision." in doc.text


@pytest_twisted.ensureDeferred
async def test_a_link_tampered_or_for_another_tenant_is_refused_and_an_expired_one_says_so(client, server, world):
    base, _pages, clock = server
    c = client("html")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    good = approval_link(world.demo, world.numbers[0], secret=SECRET, base_url=base, now=clock(), ttl=60)
    moved = good.replace(f"/doc/{world.numbers[0]}", f"/doc/{world.numbers[1]}")
    assert (await c.get(moved)).status == 403
    other = approval_link(world.other, world.numbers[0], secret=SECRET, base_url=base, now=clock())
    assert (await c.get(other)).status == 403
    assert "link has expired" not in (await c.get(good)).text
    clock.now += 61
    assert "link has expired" in (await c.get(good)).text


@pytest_twisted.ensureDeferred
async def test_after_a_decision_the_link_shows_who_decided(client, server, world):
    base, _pages, clock = server
    link = approval_link(world.demo, world.numbers[5], secret=SECRET, base_url=base, now=clock())
    c = client("xhtml")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    doc = await c.get(link)
    await c.post(f"/wap/doc/{world.numbers[5]}/decide", {"decision": "approve", "t": field(doc.body, "t")})
    later = await c.get(link)
    assert "Already approved by John Smith." in later.text and 'name="decision"' not in later.text


@pytest.mark.parametrize("family", FAMILIES)
@pytest_twisted.ensureDeferred
async def test_a_session_expires_after_idle_time(client, server, family):
    c = client(family)
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    server[2].now += 601
    answer = await c.get("/wap/pending")
    assert "Your session has ended" in answer.text and "Log in" in answer.text


@pytest_twisted.ensureDeferred
async def test_logout_ends_the_session(client):
    c = client("wml")
    menu = await c.login("DEMO", "smith", PASSWORDS["smith"])
    token = c.token
    await c.post(f"/wap/logout?s={token}", {"t": field(menu.body, "t")})
    answer = await c.get(f"/wap/menu?s={token}")
    assert "Your session has ended" in answer.text


@pytest_twisted.ensureDeferred
async def test_another_tenants_manager_sees_only_their_own_documents(client, world):
    c = client("html")
    await c.login("OTHER", "boss", PASSWORDS["boss"])
    pending = await c.get("/wap/pending")
    assert re.findall(r"/wap/doc/(\d+)", pending.text) == ["1001"]  # OTHER's own 1001
    theirs = await c.get("/wap/doc/1002")  # DEMO has a 1002, OTHER has not
    assert theirs.status == 404
    wrong_tenant = await client("html").login("DEMO", "boss", PASSWORDS["boss"])
    assert wrong_tenant.status == 403 and "Wrong enterprise, user or password." in wrong_tenant.text


@pytest_twisted.ensureDeferred
async def test_a_clerk_has_no_pending_list_and_cannot_decide(client, world, sessionmaker):
    c = client("html")
    menu = await c.login("DEMO", "zhang", PASSWORDS["zhang"])
    assert "Pending approvals" not in menu.text
    doc = await c.get(f"/wap/doc/{world.numbers[0]}")  # the clerk's own order: visible
    assert doc.status == 200 and 'name="decision"' not in doc.text
    answer = await c.post(f"/wap/doc/{world.numbers[0]}/decide",
                          {"decision": "approve", "t": field(menu.body, "t")})
    assert answer.status == 403
    assert state_of(sessionmaker, world.demo, world.numbers[0]) == "pending_approval"


@pytest_twisted.ensureDeferred
async def test_repeated_wrong_passwords_lock_the_account(client):
    c = client("wml")
    for _ in range(auth.MAX_FAILURES):
        answer = await c.login("DEMO", "smith", "wrong-password")
        assert answer.status == 403
    locked = await c.login("DEMO", "smith", PASSWORDS["smith"])
    assert locked.status == 403 and "locked" in locked.text


@pytest_twisted.ensureDeferred
async def test_a_hostile_note_and_comment_render_safely_in_wml(client, world):
    c = client("wml")
    menu = await c.login("DEMO", "smith", PASSWORDS["smith"])
    number = world.numbers[0]
    doc = await c.get(f"/wap/doc/{number}")
    assert "ok &lt;b&gt;&amp;amp; $$(pw) $$x &amp; &lt; $$" in doc.text
    comment = "<script>&amp; $(pw) $x & $"
    answer = await c.post(f"/wap/doc/{number}/decide",
                          {"decision": "approve", "comment": comment, "t": field(menu.body, "t")})
    assert "&lt;script&gt;&amp;amp; $$(pw) $$x &amp; $$" in answer.text
    assert "<script>" not in answer.text
    if validators.have_wml_tester():
        binary, problems = validators.compile_wml(answer.body)
        assert problems == []
        assert b"$(pw)" in binary.replace(b"\x00", b"")  # a literal dollar, not a variable


@pytest_twisted.ensureDeferred
async def test_wml_links_all_resolve_to_pages(client, world):
    """Follow every link and form target of the menu and pending decks: none is a 404."""
    c = client("wml")
    menu = await c.login("DEMO", "smith", PASSWORDS["smith"])
    pending = await c.get("/wap/pending")
    for deck in (menu.body, pending.body):
        for method, href, fields in validators.wml_links(deck):
            if method == "get" and not fields:
                assert (await c.get(href)).status == 200, href


@pytest_twisted.ensureDeferred
async def test_fmt_overrides_accept_and_sticks_to_links(client):
    c = client("html")
    page = await c.get("/wap/", fmt="wml")
    assert page.content_type.startswith("text/vnd.wap.wml")
    assert "fmt=wml" in page.text


@pytest_twisted.ensureDeferred
async def test_alerts_subscribe_and_unsubscribe(client, world):
    c = client("xhtml")
    menu = await c.login("DEMO", "smith", PASSWORDS["smith"])
    t = field(menu.body, "t")
    added = await c.post("/wap/alerts", {"action": "subscribe", "item": "N200", "threshold": "3", "t": t})
    assert "Subscribed." in added.text and "<td>N200</td>" in added.text
    bad = await c.post("/wap/alerts", {"action": "subscribe", "item": "N200", "threshold": "x", "t": t})
    assert bad.status == 400
    gone = await c.post("/wap/alerts", {"action": "unsubscribe", "item": "N200", "t": t})
    assert "Unsubscribed." in gone.text and "<td>N200</td>" not in gone.text


@pytest_twisted.ensureDeferred
async def test_stock_lookup_and_my_orders(client, world):
    c = client("html")
    await c.login("DEMO", "zhang", PASSWORDS["zhang"])
    stock = await c.get("/wap/stock", q="X100")
    assert "<td>WH1</td><td>250</td>" in stock.text
    orders = await c.get("/wap/orders")
    assert orders.text.count("/wap/doc/") == 6


@pytest_twisted.ensureDeferred
async def test_the_html_buttons_label_is_accepted_as_the_decision(client, world, sessionmaker):
    """Browsers send the submit button's label ("Approve"); found by the chromium test."""
    c = client("html")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    number = world.numbers[0]
    doc = await c.get(f"/wap/doc/{number}")
    assert 'name="decision" value="Approve"' in doc.text
    done = await c.post(f"/wap/doc/{number}/decide", {"decision": "Approve", "t": field(doc.body, "t")})
    assert "Approved." in done.text and state_of(sessionmaker, world.demo, number) == "approved"
