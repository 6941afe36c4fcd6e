"""One read of an enterprise's pending documents for all its managers: misses of one
enterprise while its read is in flight wait for that read instead of starting their own;
a read is kept while its generation is current and its ttl lasts; a read begun before a
commit is never taken for the state after it; a failed read fails its waiters only."""
from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults

from erpcore import approvals
from erpcore.db import session_scope
from gateway.web.wap.pending_cache import PendingCache
from gateway.web.wap.pending_reads import PendingReads, SharedRead
from tests.web.world import PASSWORDS

T0 = 1_000.0
DEMO, OTHER = 1, 2


class HeldReads:
    """The blocking read, replaced: each call is recorded and answered by the test."""

    def __init__(self):
        self.calls: list[tuple[int, Deferred]] = []

    def __call__(self, enterprise_id: int) -> Deferred:
        d = Deferred()
        self.calls.append((enterprise_id, d))
        return d

    def answer(self, index: int, label: str) -> None:
        self.calls[index][1].callback((True, label))


def results(deferreds: list[Deferred]) -> list:
    got = []
    for d in deferreds:
        d.addBoth(got.append)
    return got


def setup(ttl: float = 10.0):
    cache = PendingCache(ttl)
    held = HeldReads()
    return cache, held, PendingReads(cache, held)


def test_misses_of_one_enterprise_during_its_read_share_that_read():
    cache, held, reads = setup()
    waiting = results([reads.get(DEMO, T0) for _ in range(200)])
    other = results([reads.get(OTHER, T0)])
    assert [e for e, _d in held.calls] == [DEMO, OTHER] and waiting == []
    held.answer(0, "demo documents")
    assert len(waiting) == 200 and {w.pending for w in waiting} == {"demo documents"}
    assert len({id(w) for w in waiting}) == 1, "one read, handed to every waiter"
    assert waiting[0] == SharedRead(0, T0, True, "demo documents") and other == []


def test_a_kept_read_serves_later_misses_until_its_ttl_passes():
    cache, held, reads = setup(ttl=10.0)
    reads.get(DEMO, T0)
    held.answer(0, "first")
    later = results([reads.get(DEMO, T0 + 9.9)])
    assert len(held.calls) == 1 and later[0].pending == "first"
    results([reads.get(DEMO, T0 + 10.0)])
    assert len(held.calls) == 2


def test_a_commit_makes_the_kept_read_stale():
    cache, held, reads = setup()
    reads.get(DEMO, T0)
    held.answer(0, "before")
    cache.invalidate([DEMO])
    after = results([reads.get(DEMO, T0)])
    assert len(held.calls) == 2 and after == []
    held.answer(1, "after")
    assert after[0].pending == "after" and after[0].generation == 1


def test_a_read_begun_before_a_commit_is_not_joined_after_it_nor_kept():
    cache, held, reads = setup()
    early = results([reads.get(DEMO, T0)])
    cache.invalidate([DEMO])  # a change commits while the read is in flight
    late = results([reads.get(DEMO, T0)])
    assert len(held.calls) == 2, "the late miss starts its own read"
    held.answer(0, "before the commit")
    assert early[0].pending == "before the commit" and late == []
    held.answer(1, "after the commit")
    assert late[0].pending == "after the commit"
    again = results([reads.get(DEMO, T0)])
    assert again[0].pending == "after the commit" and len(held.calls) == 2


def test_a_stale_read_finishing_last_does_not_replace_the_current_one():
    cache, held, reads = setup()
    reads.get(DEMO, T0)
    cache.invalidate([DEMO])
    reads.get(DEMO, T0)
    held.answer(1, "current")
    held.answer(0, "stale")
    assert results([reads.get(DEMO, T0)])[0].pending == "current" and len(held.calls) == 2


def test_a_failed_read_fails_its_waiters_and_is_not_kept():
    cache, held, reads = setup()
    waiting = results([reads.get(DEMO, T0) for _ in range(3)])
    held.calls[0][1].errback(RuntimeError("database gone"))
    assert len(waiting) == 3 and all(f.check(RuntimeError) for f in waiting)
    reads.get(DEMO, T0)
    assert len(held.calls) == 2, "the next miss reads again"


def test_with_no_ttl_nothing_is_kept_but_concurrent_misses_still_share():
    cache, held, reads = setup(ttl=0)
    first = results([reads.get(DEMO, T0), reads.get(DEMO, T0)])
    held.answer(0, "read")
    assert len(first) == 2 and len(held.calls) == 1
    reads.get(DEMO, T0)
    assert len(held.calls) == 2


def test_a_page_does_not_outlive_the_read_it_was_built_from():
    cache = PendingCache(10.0)
    cache.put(DEMO, ("page",), 0, "page", T0 + 8.0, not_after=T0 + 10.0)
    assert cache.get(DEMO, ("page",), T0 + 9.99) == "page"
    assert cache.get(DEMO, ("page",), T0 + 10.0) is None


@pytest_twisted.ensureDeferred
async def test_managers_reloading_after_a_change_share_one_database_read(client, server, world, sessionmaker):
    """Three sessions' lists dropped by an approval: their three reloads, all waiting at
    once, are answered from one read, each with the list as it is after the approval."""
    _base, pages, _clock = server
    shared = pages.pending_reads
    clients = [client("wml") for _ in range(3)]
    for c in clients:
        await c.login("DEMO", "smith", PASSWORDS["smith"])
        assert "6 waiting" in (await c.get("/wap/pending")).text
    real_read, real_get = shared._read, shared.get
    gate, all_waiting, asked = Deferred(), Deferred(), []

    def held_read(enterprise_id):
        return gate.addCallback(lambda _: real_read(enterprise_id))

    def counting_get(enterprise_id, now):
        found = real_get(enterprise_id, now)
        asked.append(enterprise_id)
        if len(asked) == len(clients):
            all_waiting.callback(None)
        return found

    shared._read, shared.get = held_read, counting_get
    with session_scope(sessionmaker) as s:
        approvals.approve(s, world.demo, world.numbers[0], world.users["smith"], "by SMS")
    reads_before = shared.reads
    reloads = gatherResults([ensureDeferred(c.get("/wap/pending")) for c in clients])
    await all_waiting
    gate.callback(None)
    pages_after = await reloads
    assert shared.reads == reads_before + 1
    for c, page in zip(clients, pages_after):
        assert page.status == 200 and "5 waiting" in page.text and f"s={c.token}" in page.text
        assert f"/wap/doc/{world.numbers[0]}" not in page.text and f"/wap/doc/{world.numbers[1]}" in page.text
