"""Serving resources on an ephemeral loopback port for a test, with the web thread pool
they run their blocking work on."""
from __future__ import annotations

from contextlib import contextmanager

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Site


@contextmanager
def on_loopback(name: str, threads: int = 4):
    """(pool, mount): a started thread pool, and ``mount({path: resource})`` that serves
    the resources under one root on an ephemeral loopback port and returns its base URL.
    Ports and pool are stopped on exit."""
    pool = ThreadPool(minthreads=1, maxthreads=threads, name=name)
    pool.start()
    ports = []

    def mount(children: dict[bytes, Resource]) -> str:
        root = Resource()
        for path, resource in children.items():
            root.putChild(path, resource)
        port = pytest_twisted.blockon(serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(Site(root)))
        ports.append(port)
        return f"http://127.0.0.1:{port.getHost().port}"

    try:
        yield pool, mount
    finally:
        for port in ports:
            pytest_twisted.blockon(port.stopListening())
        pool.stop()
