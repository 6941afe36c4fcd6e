"""Fixtures of the WAP tests: a seeded database and the pages on a loopback port."""
from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from erpcore.db import session_scope
from gateway.web.console import OperatorConsole
from gateway.web.operator_api import OperatorApi
from gateway.web.wap.resource import WapPages
from tests.web.client import Client
from tests.web.console_client import ConsoleClient
from tests.web.world import build

SECRET = b"test-link-secret"
OPERATOR_TOKEN = "op-token-7f3a9c"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(sessionmaker):
    with session_scope(sessionmaker) as session:
        return build(session)


@pytest.fixture
def server(sessionmaker, world):
    """(base URL, WapPages, clock) with the pages under /wap on an ephemeral port."""
    pool = ThreadPool(minthreads=1, maxthreads=4, name="wap-test")
    pool.start()
    clock = FakeClock()
    pages = WapPages(sessionmaker, reactor, pool, secret=SECRET, idle_seconds=600, clock=clock)
    root = Resource()
    root.putChild(b"wap", pages)
    port = pytest_twisted.blockon(serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(Site(root)))
    yield f"http://127.0.0.1:{port.getHost().port}", pages, clock
    pytest_twisted.blockon(port.stopListening())
    pool.stop()


@pytest.fixture
def client(server):
    return lambda family: Client(server[0], family)


@pytest.fixture
def operator_site(sessionmaker, world):
    """(base URL, OperatorConsole, clock): the console under /console and the JSON API
    under /api, both behind OPERATOR_TOKEN, on an ephemeral loopback port."""
    pool = ThreadPool(minthreads=1, maxthreads=4, name="console-test")
    pool.start()
    clock = FakeClock()
    console = OperatorConsole(sessionmaker, OPERATOR_TOKEN, reactor, pool, clock=clock,
                              idle_seconds=1800, max_seconds=8 * 3600)
    root = Resource()
    root.putChild(b"console", console)
    root.putChild(b"api", OperatorApi(sessionmaker, OPERATOR_TOKEN, reactor, pool))
    port = pytest_twisted.blockon(serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(Site(root)))
    yield f"http://127.0.0.1:{port.getHost().port}", console, clock
    pytest_twisted.blockon(port.stopListening())
    pool.stop()


@pytest.fixture
def operator(operator_site):
    """A fresh browser on the operator console."""
    return ConsoleClient(operator_site[0])
