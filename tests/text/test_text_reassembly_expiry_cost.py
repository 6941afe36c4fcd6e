"""Expiring stale partial messages reads only the stale ones (it runs once a submit_sm in
the simulator, with many messages pending under load)."""
from __future__ import annotations

from twisted.internet import task

from gateway.messages import ConcatInfo
from gateway.text import Reassembler, reassembly


class _CountedPending(reassembly._Pending):
    """A pending message that counts how often its start time is read."""

    reads = 0

    def __getattribute__(self, name):
        if name == "started":
            _CountedPending.reads += 1
        return super().__getattribute__(name)


def _pending_messages(monkeypatch, clock, starts):
    monkeypatch.setattr(reassembly, "_Pending", _CountedPending)
    r = Reassembler(clock, timeout=10)
    for ref, start in enumerate(starts):
        clock.advance(start - clock.seconds())
        r.add(f"s{ref}", ConcatInfo(ref, 2, 1), "half")
    _CountedPending.reads = 0
    return r


def test_expire_reads_the_stale_head_and_the_first_fresh_message_only(monkeypatch):
    clock = task.Clock()
    r = _pending_messages(monkeypatch, clock, [0, 1, 2] + [55] * 200)
    clock.advance(62 - clock.seconds())  # 0, 1, 2 are stale; the 200 others are not

    dropped = r.expire()

    assert dropped == [("s0", 0, 2), ("s1", 1, 2), ("s2", 2, 2)]
    assert len(r) == 200
    assert _CountedPending.reads == 4


def test_expire_with_nothing_stale_reads_one_message(monkeypatch):
    clock = task.Clock()
    r = _pending_messages(monkeypatch, clock, [5] * 100)

    assert r.expire() == []
    assert len(r) == 100
    assert _CountedPending.reads == 1


def test_a_message_completed_and_begun_again_expires_by_its_new_start(monkeypatch):
    clock = task.Clock()
    r = _pending_messages(monkeypatch, clock, [0, 4])
    clock.advance(1)
    assert r.add("s0", ConcatInfo(0, 2, 2), "rest") == "halfrest"
    clock.advance(3)
    r.add("s0", ConcatInfo(0, 2, 1), "again")  # starts at 8, after s1's 4
    clock.advance(14 - clock.seconds())

    assert r.expire() == [("s1", 1, 2)]
    assert len(r) == 1
