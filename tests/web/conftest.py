"""Fixtures of the WAP tests: a seeded database and the pages on a loopback port."""
from __future__ import annotations

import pytest
from twisted.internet import reactor

from erpcore.db import session_scope
from gateway.web.console import OperatorConsole
from gateway.web.operator_api import OperatorApi
from gateway.web.wap.resource import WapPages
from tests.web.client import Client
from tests.web.console_client import ConsoleClient
from tests.web.loopback import on_loopback
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
    with on_loopback("wap-test") as (pool, mount):
        clock = FakeClock()
        pages = WapPages(sessionmaker, reactor, pool, secret=SECRET, idle_seconds=600, clock=clock)
        yield mount({b"wap": pages}), pages, clock


@pytest.fixture
def client(server):
    return lambda family: Client(server[0], family)


@pytest.fixture
def operator_site(sessionmaker, world):
    """(base URL, OperatorConsole, clock): the console under /console and the JSON API
    under /api, both behind OPERATOR_TOKEN, on an ephemeral loopback port."""
    with on_loopback("console-test") as (pool, mount):
        clock = FakeClock()
        console = OperatorConsole(sessionmaker, OPERATOR_TOKEN, reactor, pool, clock=clock,
                                  idle_seconds=1800, max_seconds=8 * 3600)
        api = OperatorApi(sessionmaker, OPERATOR_TOKEN, reactor, pool)
        yield mount({b"console": console, b"api": api}), console, clock


@pytest.fixture
def operator(operator_site):
    """A fresh browser on the operator console."""
    return ConsoleClient(operator_site[0])
