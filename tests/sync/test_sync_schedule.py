"""The daemons schedule heartbeats, fast and full scans and the full sync with APScheduler;
a job that fails is logged, never lost in an unhandled Deferred."""
from __future__ import annotations

from twisted.internet import defer

from sync.peer import PeerSettings, SyncPeer


class FakeScheduler:
    def __init__(self):
        self.jobs = {}

    def add_job(self, func, trigger, args, seconds, id, **kw):
        assert trigger == "interval"
        self.jobs[id] = (func, args, seconds)


class ImmediateReactor:
    def callFromThread(self, f, *a):
        f(*a)


class Side:
    scope = "E1"
    sources = {}


def test_every_job_is_scheduled_at_its_interval_and_failures_are_logged(caplog):
    peer = SyncPeer(Side(), client=None, clock=None,
                    settings=PeerSettings(heartbeat_interval=7, fast_scan_interval=3))
    peer.heartbeat = lambda: defer.fail(RuntimeError("db gone"))
    scheduler = FakeScheduler()
    peer.schedule(scheduler, ImmediateReactor())
    assert {k: v[2] for k, v in scheduler.jobs.items()} == {
        "sync:E1:heartbeat": 7, "sync:E1:fast": 3, "sync:E1:full": 3600.0,
        "sync:E1:digest": 86400.0}
    func, args, _ = scheduler.jobs["sync:E1:heartbeat"]
    func(*args)
    assert "heartbeat job failed" in caplog.text and "db gone" in caplog.text
