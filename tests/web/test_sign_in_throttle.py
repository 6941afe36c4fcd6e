"""The console's sign-in throttle: five wrong operator tokens from one client address lock
that address out for fifteen minutes, the right token included, with a "try again later"
note and no hint about the token; other addresses sign in as before; memory stays
bounded. Time is a task.Clock: nothing sleeps."""
from __future__ import annotations

import re

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.endpoints import serverFromString
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from gateway.web.console import OperatorConsole
from gateway.web.sign_in_throttle import LOCKOUT_SECONDS, MAX_FAILURES, SignInThrottle, client_key
from tests.web.conftest import OPERATOR_TOKEN
from tests.web.console_client import ConsoleClient, csrf_of
from tests.web.loopback import on_loopback

NOTE = "Too many failed sign-ins from your address; try again later."


def failing_clock() -> task.Clock:
    clock = task.Clock()
    clock.advance(1_700_000_000)
    return clock


# -- the throttle alone ---------------------------------------------------------------------

def test_the_fifth_failure_locks_the_address_for_fifteen_minutes():
    clock = failing_clock()
    throttle = SignInThrottle(clock.seconds)
    for _ in range(MAX_FAILURES - 1):
        assert throttle.failed("10.0.0.1") == 0
        clock.advance(60)
    assert throttle.locked_for("10.0.0.1") == 0
    assert throttle.failed("10.0.0.1") == LOCKOUT_SECONDS == 15 * 60
    clock.advance(LOCKOUT_SECONDS - 1)
    assert throttle.locked_for("10.0.0.1") == 1 and throttle.locked_for("10.0.0.2") == 0
    clock.advance(1)
    assert throttle.locked_for("10.0.0.1") == 0
    assert throttle.failed("10.0.0.1") == 0, "after the lock a new run of failures starts"


def test_failures_spread_wider_than_the_window_never_lock():
    clock = failing_clock()
    throttle = SignInThrottle(clock.seconds)
    for _ in range(3 * MAX_FAILURES):
        assert throttle.failed("10.0.0.1") == 0
        clock.advance(LOCKOUT_SECONDS / (MAX_FAILURES - 1) + 1)


def test_the_right_token_before_a_lock_forgets_the_failures():
    clock = failing_clock()
    throttle = SignInThrottle(clock.seconds)
    for _ in range(MAX_FAILURES - 1):
        throttle.failed("10.0.0.1")
    throttle.succeeded("10.0.0.1")
    for _ in range(MAX_FAILURES - 1):
        assert throttle.failed("10.0.0.1") == 0
    assert throttle.failed("10.0.0.1") > 0


def test_memory_is_bounded_and_old_records_are_swept():
    clock = failing_clock()
    throttle = SignInThrottle(clock.seconds, max_addresses=100)
    for _ in range(MAX_FAILURES):
        throttle.failed("10.9.9.9")  # locked, and the least recently failed of all
    for n in range(1000):
        throttle.failed(f"10.1.{n // 250}.{n % 250}")
        assert len(throttle) <= 100
    assert throttle.locked_for("10.9.9.9") == 0, "dropped first when the table is full"
    clock.advance(LOCKOUT_SECONDS / 2)
    for _ in range(MAX_FAILURES - 2):  # the most recent are kept, with their count
        assert throttle.failed("10.1.3.249") == 0
    assert throttle.failed("10.1.3.249") == LOCKOUT_SECONDS
    clock.advance(LOCKOUT_SECONDS / 2)
    throttle.failed("10.2.0.1")  # the first failure once the runs are over sweeps them
    assert len(throttle) == 2 and throttle.locked_for("10.1.3.249") == LOCKOUT_SECONDS / 2


@pytest.mark.parametrize("host, key", [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    (None, "unknown"),
    ("/run/merp.sock", "/run/merp.sock"),
])
def test_an_address_is_counted_by_ipv4_address_or_ipv6_64(host, key):
    assert client_key(host) == key


# -- the console over loopback --------------------------------------------------------------

@pytest.fixture
def throttled(sessionmaker):
    """(base URL, console, task.Clock): the console alone, its clock a task.Clock."""
    clock = failing_clock()
    with on_loopback("console-throttle-test", threads=2) as (pool, mount):
        console = OperatorConsole(sessionmaker, OPERATOR_TOKEN, reactor, pool, clock=clock.seconds)
        yield mount({b"console": console}), console, clock


def without_csrf(answer) -> bytes:
    return answer.body.replace(csrf_of(answer).encode(), b"CSRF")


@pytest_twisted.ensureDeferred
async def test_five_wrong_tokens_lock_the_address_and_even_the_right_token_is_refused(throttled):
    base, _console, clock = throttled
    browser = ConsoleClient(base)
    for n in range(MAX_FAILURES - 1):
        answer = await browser.sign_in(f"guess-{n}")
        assert answer.status == 403 and "Sign-in refused." in answer.text and NOTE not in answer.text
    fifth = await browser.sign_in("guess-5")
    assert fifth.status == 429 and "Sign-in refused." in fifth.text and NOTE in fifth.text
    right = await browser.sign_in(OPERATOR_TOKEN)
    wrong = await browser.sign_in("guess-6")
    assert right.status == wrong.status == 429
    assert without_csrf(right) == without_csrf(wrong), "nothing tells the right token from a wrong one"
    assert browser.cookie is None and not any(c.startswith("merp_console=") for c in browser.set_cookies)
    assert (await browser.get("/console/")).status == 303

    clock.advance(LOCKOUT_SECONDS - 1)
    assert (await browser.sign_in(OPERATOR_TOKEN)).status == 429
    clock.advance(1)
    after = await browser.sign_in(OPERATOR_TOKEN)
    assert after.status == 303 and browser.cookie is not None
    assert (await browser.get("/console/")).status == 200


@pytest_twisted.ensureDeferred
async def test_the_lockout_answer_says_when_to_retry_and_nothing_about_the_token(throttled):
    base, _console, clock = throttled
    browser = ConsoleClient(base)
    for n in range(MAX_FAILURES):
        locked = await browser.sign_in(f"{OPERATOR_TOKEN[:-1]}{n}")
    assert locked.status == 429 and browser.headers["retry-after"] == str(int(LOCKOUT_SECONDS))
    clock.advance(100)
    again = await browser.sign_in(OPERATOR_TOKEN)
    assert again.status == 429 and browser.headers["retry-after"] == str(int(LOCKOUT_SECONDS) - 100)
    [said] = re.findall(r'<p class="error" role="alert">([^<]*)</p>', again.text)
    assert said == f"Sign-in refused. {NOTE}"  # all it says
    assert OPERATOR_TOKEN[:-1] not in again.text and '<input type="password" id="token"' in again.text


@pytest_twisted.ensureDeferred
async def test_another_address_still_signs_in_while_one_is_locked_out(throttled):
    base, console, _clock = throttled
    guesser, operator = ConsoleClient(base), ConsoleClient(base, source="127.0.0.2")
    for n in range(MAX_FAILURES):
        await guesser.sign_in(f"guess-{n}")
    assert (await guesser.sign_in(OPERATOR_TOKEN)).status == 429
    signed_in = await operator.sign_in(OPERATOR_TOKEN)
    assert signed_in.status == 303 and operator.cookie is not None
    assert console.throttle.locked_for("127.0.0.1") > 0 and console.throttle.locked_for("127.0.0.2") == 0


@pytest_twisted.ensureDeferred
async def test_a_successful_sign_in_starts_the_count_again(throttled):
    base, _console, _clock = throttled
    browser = ConsoleClient(base)
    for n in range(MAX_FAILURES - 1):
        await browser.sign_in(f"guess-{n}")
    assert (await browser.sign_in(OPERATOR_TOKEN)).status == 303
    browser.cookie = None  # signed in; now from the same address without that session
    for n in range(MAX_FAILURES - 1):
        assert (await browser.sign_in(f"again-{n}")).status == 403
    assert (await browser.sign_in("again-last")).status == 429


@pytest_twisted.ensureDeferred
async def test_an_expired_sign_in_form_does_not_count_as_a_wrong_token(throttled):
    base, _console, _clock = throttled
    browser = ConsoleClient(base)
    for _ in range(2 * MAX_FAILURES):
        answer = await browser.post("/console/sign-in", {"token": "guess", "csrf": "forged"})
        assert answer.status == 403 and "The form expired" in answer.text
    assert (await browser.sign_in(OPERATOR_TOKEN)).status == 303


@pytest_twisted.ensureDeferred
async def test_the_lockout_length_and_count_are_the_consoles_to_choose(sessionmaker):
    clock = failing_clock()
    pool = ThreadPool(minthreads=1, maxthreads=1, name="console-throttle-test")
    pool.start()
    console = OperatorConsole(sessionmaker, OPERATOR_TOKEN, reactor, pool, clock=clock.seconds,
                              max_failures=2, lockout_seconds=60)
    root = Resource()
    root.putChild(b"console", console)
    port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(Site(root))
    try:
        browser = ConsoleClient(f"http://127.0.0.1:{port.getHost().port}")
        assert (await browser.sign_in("one")).status == 403
        locked = await browser.sign_in("two")
        assert locked.status == 429
        clock.advance(60)
        assert (await browser.sign_in(OPERATOR_TOKEN)).status == 303
    finally:
        await port.stopListening()
        pool.stop()
