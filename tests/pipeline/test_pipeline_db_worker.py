"""DbWorker: units wait in priority lanes and the pool gets no more than it has threads,
so storing what the SMS centre waits for overtakes claims and batches asked for earlier."""
from __future__ import annotations

from twisted.python.failure import Failure

from gateway.pipeline.db_worker import ACK, OUTCOME, WORK, DbWorker
from tests.pipeline.pipeline_fakes import InlineReactor, ManualPool


class NoSessions:
    """A sessionmaker stand-in: `begin()` gives a context with a dummy session."""

    class _Unit:
        def __enter__(self):
            return "session"

        def __exit__(self, *exc):
            return False

    def begin(self):
        return self._Unit()


def make_worker(threads=1):
    pool = ManualPool()
    return DbWorker(NoSessions(), InlineReactor(), threads=threads, pool=pool), pool


def unit(log, name):
    def work(session):
        log.append(name)
        return name
    return work


def test_an_acknowledgement_write_overtakes_work_queued_before_it():
    worker, pool = make_worker()
    ran = []
    worker.run(unit(ran, "claim"))  # runs now: the pool had a free thread
    worker.run(unit(ran, "batch"))
    worker.run(unit(ran, "outcomes"), priority=OUTCOME)
    acked = []
    worker.run(unit(ran, "store"), priority=ACK).addCallback(acked.append)
    assert len(pool.queue) == 1 and worker.waiting == 3
    pool.run_all()
    assert ran == ["claim", "store", "outcomes", "batch"]
    assert acked == ["store"] and worker.waiting == 0


def test_the_pool_never_holds_more_units_than_it_has_threads():
    worker, pool = make_worker(threads=2)
    results = [worker.run(unit([], n)) for n in "abcde"]
    assert len(pool.queue) == 2 and worker.waiting == 3
    pool.run_one()
    assert len(pool.queue) == 2 and worker.waiting == 2  # the freed thread took the next
    pool.run_all()
    fired = []
    for d in results:
        d.addCallback(fired.append)
    assert fired == list("abcde") and worker.calls == 5


def test_a_failing_unit_errbacks_and_the_next_still_runs():
    worker, pool = make_worker()
    ran = []

    def broken(session):
        raise RuntimeError("deadlock")

    failed = []
    worker.run(broken).addErrback(failed.append)
    worker.run(unit(ran, "next"))
    pool.run_all()
    assert len(failed) == 1 and isinstance(failed[0], Failure) and failed[0].check(RuntimeError)
    assert ran == ["next"] and worker.failures == 1


def test_stopping_hands_every_waiting_unit_to_the_pool():
    worker, pool = make_worker()
    worker.startService()
    for name in ("a", "b", "c"):
        worker.run(unit([], name), priority=WORK)
    assert len(pool.queue) == 1
    worker.stopService()
    assert len(pool.queue) == 3 and worker.waiting == 0


def test_an_unknown_priority_is_refused():
    worker, pool = make_worker()
    try:
        worker.run(unit([], "x"), priority=7)
    except ValueError as exc:
        assert "priority" in str(exc)
    else:
        raise AssertionError("priority 7 accepted")
    assert not pool.queue and worker.calls == 0
