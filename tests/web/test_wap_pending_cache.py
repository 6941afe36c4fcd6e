"""The pending-approvals page cache: a page lives until a change of its enterprise commits
in this process (approval events, users, roles, services, rules) or its TTL passes; a
page read before a commit is never served after it; WML pages stay per session."""
from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import update

from erpcore import approvals, people, services
from erpcore.db import session_scope
from erpcore.orders import Order
from gateway.web.wap.pending_cache import PendingCache
from tests.web.world import PASSWORDS

T0 = 1_000.0


def filled(ttl: float = 10.0, enterprises=(1, 2)) -> PendingCache:
    cache = PendingCache(ttl)
    for enterprise_id in enterprises:
        cache.put(enterprise_id, ("page",), cache.generation(enterprise_id), f"page of {enterprise_id}", T0)
    return cache


def test_a_page_lives_at_least_half_and_at_most_all_of_its_ttl():
    cache = filled(ttl=10.0)
    assert cache.get(1, ("page",), T0 + 4.99) == "page of 1"
    assert cache.get(1, ("page",), T0 + 10.0) is None
    assert cache.get(1, ("other key",), T0) is None


def test_a_page_built_from_data_read_before_a_change_is_not_kept():
    cache = PendingCache(10.0)
    generation = cache.generation(1)  # read before the page's data...
    cache.invalidate([1])  # ...a change commits meanwhile...
    cache.put(1, ("page",), generation, "stale", T0)  # ...so the page is not kept
    assert cache.get(1, ("page",), T0) is None


def test_an_invalidation_drops_only_its_enterprises_pages():
    cache = filled()
    cache.invalidate([1])
    assert cache.get(1, ("page",), T0) is None and cache.get(2, ("page",), T0) == "page of 2"


def test_a_zero_ttl_keeps_nothing():
    assert filled(ttl=0).get(1, ("page",), T0) is None


def test_an_approval_drops_its_enterprises_pages_when_it_commits_not_before(sessionmaker, world):
    cache = filled(enterprises=(world.demo, world.other))
    with session_scope(sessionmaker) as s:
        approvals.approve(s, world.demo, world.numbers[0], world.users["smith"], "ok")
        assert cache.get(world.demo, ("page",), T0) == f"page of {world.demo}", "not committed yet"
    assert cache.get(world.demo, ("page",), T0) is None
    assert cache.get(world.other, ("page",), T0) == f"page of {world.other}"


def test_a_rolled_back_approval_drops_nothing(sessionmaker, world):
    cache = filled(enterprises=(world.demo,))
    with pytest.raises(RuntimeError), session_scope(sessionmaker) as s:
        approvals.approve(s, world.demo, world.numbers[0], world.users["smith"], "ok")
        raise RuntimeError("the unit of work fails after the approval")
    assert cache.get(world.demo, ("page",), T0) == f"page of {world.demo}"


def test_a_released_savepoint_is_not_yet_the_commit(sessionmaker, world):
    cache = filled(enterprises=(world.demo,))
    with session_scope(sessionmaker) as s:
        with s.begin_nested():
            approvals.approve(s, world.demo, world.numbers[0], world.users["smith"], "ok")
        assert cache.get(world.demo, ("page",), T0) is not None, "others cannot see the approval yet"
    assert cache.get(world.demo, ("page",), T0) is None


@pytest.mark.parametrize("change", ["role", "service", "rules"])
def test_who_may_approve_changing_drops_the_pages_too(sessionmaker, world, change):
    cache = filled(enterprises=(world.demo, world.other))
    with session_scope(sessionmaker) as s:
        if change == "role":
            people.update_user(s, world.demo, None, world.users["smith"], role="clerk")
        elif change == "service":
            services.close_service(s, world.demo, "approval")
        else:
            approvals.set_rules(s, world.demo, "purchase", [(1, "0", "finance")])
    assert cache.get(world.demo, ("page",), T0) is None
    assert cache.get(world.other, ("page",), T0) is not None


def _orders_listed(page) -> int:
    return page.text.count("/wap/doc/")


@pytest_twisted.ensureDeferred
async def test_a_decision_taken_by_sms_shows_on_the_next_reload(client, server, world, sessionmaker):
    """The SMS side runs in this process: its commit drops the cached list at once."""
    _base, pages, _clock = server
    c = client("html")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    first = await c.get("/wap/pending")
    assert f"/wap/doc/{world.numbers[0]}" in first.text and len(pages.pending_cache) == 1
    with session_scope(sessionmaker) as s:  # as the dispatcher does for "Y 1001"
        approvals.approve(s, world.demo, world.numbers[0], world.users["smith"], "by SMS")
    again = await c.get("/wap/pending")
    assert f"/wap/doc/{world.numbers[0]}" not in again.text and "5 waiting" in again.text


@pytest_twisted.ensureDeferred
async def test_a_change_this_process_cannot_see_shows_within_the_ttl(client, server, world, sessionmaker):
    """Another gateway process (simulated by a bare UPDATE, which announces nothing here)."""
    _base, pages, clock = server
    c = client("xhtml")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    assert "6 waiting" in (await c.get("/wap/pending")).text
    with session_scope(sessionmaker) as s:
        s.execute(update(Order).where(Order.number == world.numbers[5], Order.enterprise_id == world.demo)
                  .values(state="cancelled"))
    assert "6 waiting" in (await c.get("/wap/pending")).text, "served from the cache"
    clock.now += pages.pending_cache.ttl
    assert "5 waiting" in (await c.get("/wap/pending")).text


@pytest_twisted.ensureDeferred
async def test_a_wml_page_is_never_served_to_another_session(client, server, world):
    a, b = client("wml"), client("wml")
    await a.login("DEMO", "smith", PASSWORDS["smith"])
    await b.login("DEMO", "smith", PASSWORDS["smith"])
    assert a.token != b.token
    page_a = await a.get("/wap/pending")
    page_b = await b.get("/wap/pending")
    assert f"s={a.token}" in page_a.text and f"s={b.token}" in page_b.text
    assert a.token not in page_b.text and b.token not in page_a.text


@pytest_twisted.ensureDeferred
async def test_approving_on_the_page_never_shows_the_old_list(client, server, world):
    _base, pages, _clock = server
    c = client("wml")
    await c.login("DEMO", "smith", PASSWORDS["smith"])
    number = world.numbers[1]
    assert f"/wap/doc/{number}" in (await c.get("/wap/pending")).text
    doc = await c.get(f"/wap/doc/{number}")
    token = doc.text.split('name="t" value="')[1].split('"')[0]
    await c.post(f"/wap/doc/{number}/decide", {"decision": "approve", "comment": "", "t": token})
    after = await c.get("/wap/pending")
    assert f"/wap/doc/{number}" not in after.text and "5 waiting" in after.text
