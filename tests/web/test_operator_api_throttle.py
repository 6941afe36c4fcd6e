"""Wrong bearer tokens on the operator JSON API count in the sign-in throttle the console
shares: five from one address lock it out of both faces for fifteen minutes (429 with
Retry-After, the right token refused too, nothing done); a request without a token is not
a guess. Time is a task.Clock: nothing sleeps."""
from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor

from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.tenants import Enterprise
from gateway.web.console import OperatorConsole
from gateway.web.operator_api import OperatorApi
from gateway.web.sign_in_throttle import LOCKOUT_SECONDS, MAX_FAILURES, SignInThrottle
from tests.gateway.test_web_operator_api import NEW, TOKEN, call
from tests.web.console_client import ConsoleClient
from tests.web.loopback import on_loopback
from tests.web.test_sign_in_throttle import failing_clock


@pytest.fixture
def faces(sessionmaker):
    """(base URL, task.Clock, sessionmaker): the API and the console on one port, sharing
    one throttle, as ``gateway.web.site`` mounts them."""
    with session_scope(sessionmaker) as session:
        seed_demo(session)
    clock = failing_clock()
    throttle = SignInThrottle(clock.seconds)
    with on_loopback("api-throttle-test", threads=2) as (pool, mount):
        base = mount({
            b"api": OperatorApi(sessionmaker, TOKEN, reactor, pool, throttle),
            b"console": OperatorConsole(sessionmaker, TOKEN, reactor, pool, clock=clock.seconds,
                                        throttle=throttle),
        })
        yield base, clock, sessionmaker


def enterprise_codes(sessionmaker) -> set[str]:
    with session_scope(sessionmaker) as session:
        return set(session.scalars(select(Enterprise.code)))


@pytest_twisted.ensureDeferred
async def test_five_wrong_tokens_lock_the_api_and_the_right_token_then_changes_nothing(faces):
    base, clock, sessionmaker = faces
    for n in range(MAX_FAILURES - 1):
        status, body, _ = await call(base, "GET", "/api/enterprises", token=f"guess-{n}")
        assert (status, body["error"]["code"]) == (401, "auth.token")
    status, body, headers = await call(base, "GET", "/api/enterprises", token="guess-last")
    assert (status, body["error"]["code"]) == (429, "auth.locked")
    assert headers.getRawHeaders(b"retry-after") == [str(int(LOCKOUT_SECONDS) + 1).encode()]
    before = enterprise_codes(sessionmaker)
    status, body, _ = await call(base, "POST", "/api/enterprises", NEW)  # the right token
    assert (status, body["error"]["code"]) == (429, "auth.locked")
    assert enterprise_codes(sessionmaker) == before and "ACME" not in before
    clock.advance(LOCKOUT_SECONDS)
    status, body, _ = await call(base, "POST", "/api/enterprises", NEW)
    assert status == 201, body
    assert "ACME" in enterprise_codes(sessionmaker)


@pytest_twisted.ensureDeferred
async def test_requests_without_a_token_are_refused_but_not_counted(faces):
    base, _clock, _maker = faces
    for _ in range(3 * MAX_FAILURES):
        status, body, _ = await call(base, "GET", "/api/enterprises", token=None)
        assert (status, body["error"]["code"]) == (401, "auth.token")
    status, body, _ = await call(base, "GET", "/api/enterprises")
    assert status == 200 and any(e["code"] == "DEMO" for e in body["enterprises"])


@pytest_twisted.ensureDeferred
async def test_the_right_token_before_the_lock_forgets_the_failures(faces):
    base, _clock, _maker = faces
    for round_ in range(3):
        for n in range(MAX_FAILURES - 1):
            status, _, _ = await call(base, "GET", "/api/enterprises", token=f"guess-{round_}-{n}")
            assert status == 401
        status, _, _ = await call(base, "GET", "/api/enterprises")
        assert status == 200


@pytest_twisted.ensureDeferred
async def test_guesses_on_the_api_and_the_console_count_together(faces):
    base, _clock, _maker = faces
    for n in range(MAX_FAILURES - 1):
        status, _, _ = await call(base, "GET", "/api/enterprises", token=f"guess-{n}")
        assert status == 401
    browser = ConsoleClient(base)
    assert (await browser.sign_in("one-more-guess")).status == 429
    assert (await browser.sign_in(TOKEN)).status == 429
    status, _, _ = await call(base, "GET", "/api/enterprises")
    assert status == 429
