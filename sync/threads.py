"""Blocking database work off the reactor thread: a pool started and stopped as a
service, the ``run(f, *args) -> Deferred`` the sync modules take, and `in_steps` for work
over a whole table, which runs a chunk per call so other work goes between chunks."""
from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool


class PoolService(Service):
    """A thread pool started and stopped with its service parent (the gateway's web
    pages use it too, as ``gateway.web.site.ThreadPoolService``)."""

    def __init__(self, size: int, name: str):
        self.pool = ThreadPool(minthreads=0, maxthreads=max(1, size), name=name)

    def startService(self):
        super().startService()
        self.pool.start()

    def stopService(self):
        super().stopService()
        self.pool.stop()


def runner(reactor, size: int, name: str):
    """(run, service): ``run`` defers work to the service's pool."""
    service = PoolService(size, name)

    def run(f, *args, **kw):
        return deferToThreadPool(reactor, service.pool, f, *args, **kw)
    return run, service


@defer.inlineCallbacks
def in_steps(run, step, state):
    """``run(step, state)`` until it answers False; fires with ``state``."""
    while (yield run(step, state)):
        pass
    return state
