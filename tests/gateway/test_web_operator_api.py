"""The operator console's JSON API over a real loopback port (issue 3 point 7)."""
from __future__ import annotations

import io
import json
import threading

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.python.threadpool import ThreadPool
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers
from twisted.web.server import Site

from erpcore import services
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from erpcore.services import ServiceRequest
from gateway.web.operator_api import MAX_BODY_BYTES, operator_api_resource

TOKEN = "s3cret-operator-token"


@pytest.fixture
def api(sessionmaker):
    """(base URL, sessionmaker) of the API listening on an ephemeral loopback port."""
    with session_scope(sessionmaker) as session:
        seed_demo(session)
    pool = ThreadPool(minthreads=1, maxthreads=4, name="operator-api-test")
    pool.start()
    root = operator_api_resource(sessionmaker, TOKEN, reactor, pool)
    port = pytest_twisted.blockon(serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(Site(root)))
    yield f"http://127.0.0.1:{port.getHost().port}", sessionmaker
    pytest_twisted.blockon(port.stopListening())
    pool.stop()


async def call(base, method, path, body=None, token=TOKEN, raw=None):
    """(status, decoded JSON, headers) of one request."""
    headers = Headers({b"content-type": [b"application/json"]})
    if token is not None:
        headers.addRawHeader(b"authorization", b"Bearer " + token.encode())
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    producer = FileBodyProducer(io.BytesIO(data)) if data is not None else None
    response = await Agent(reactor).request(method.encode(), (base + path).encode(), headers, producer)
    text = await readBody(response)
    return response.code, json.loads(text.decode("utf-8")), response.headers


NEW = {
    "code": "ACME", "name": "顶点公司", "extension": "07", "lang": "en",
    "admin": {"username": "boss", "msisdn": "13700000007", "password": "boss-password"},
    "modules": ["stock"],
}


@pytest_twisted.ensureDeferred
async def test_a_missing_or_wrong_token_is_401(api):
    base, _ = api
    for token in (None, "wrong", ""):
        status, body, headers = await call(base, "GET", "/api/enterprises/DEMO", token=token)
        assert status == 401 and body["error"]["code"] == "auth.token"
        assert headers.getRawHeaders(b"www-authenticate")[0].startswith(b"Bearer")


@pytest_twisted.ensureDeferred
async def test_operator_creates_a_platform_and_opens_orders(api):
    base, maker = api
    status, body, _ = await call(base, "POST", "/api/enterprises", NEW)
    assert status == 201 and body["code"] == "ACME" and body["extension"] == "07"
    assert {s["module"]: s["state"] for s in body["services"]}["stock"] == "open"
    status, body, _ = await call(base, "POST", "/api/enterprises/ACME/services/orders", {"params": {"limit": 5}})
    assert status == 200 and body["request"]["action"] == "open"
    assert body["service"] == {"module": "orders", "state": "open", "params": {"limit": 5},
                               "opened_at": body["service"]["opened_at"]}
    status, body, _ = await call(base, "POST", "/api/enterprises/ACME/services/orders", {"params": {"limit": 9}})
    assert status == 200 and body["request"]["action"] == "change" and body["service"]["params"] == {"limit": 9}
    status, body, _ = await call(base, "DELETE", "/api/enterprises/ACME/services/orders")
    assert status == 200 and body["service"]["state"] == "closed"
    status, body, _ = await call(base, "GET", "/api/enterprises/ACME/services")
    assert {s["module"]: s["state"] for s in body["services"]}["orders"] == "closed"
    with session_scope(maker) as session:
        acme = services.get_enterprise_by_code(session, "ACME")
        assert services.is_open(session, acme.id, "stock") and not services.is_open(session, acme.id, "orders")


@pytest_twisted.ensureDeferred
async def test_users_are_created_and_listed_per_enterprise(api):
    base, _ = api
    await call(base, "POST", "/api/enterprises", NEW)
    status, body, _ = await call(base, "POST", "/api/enterprises/ACME/users",
                                 {"username": "li", "display_name": "李四", "msisdn": "13700000008", "role": "manager"})
    assert status == 201 and body["username"] == "li" and body["role"] == "manager"
    status, body, _ = await call(base, "GET", "/api/enterprises/ACME/users")
    assert [u["username"] for u in body["users"]] == ["boss", "li"]
    status, body, _ = await call(base, "GET", "/api/enterprises/DEMO/users")
    assert "li" not in [u["username"] for u in body["users"]]


@pytest_twisted.ensureDeferred
async def test_errors_have_clear_codes_and_statuses(api):
    base, _ = api
    cases = [
        ("GET", "/api/enterprises/NOPE", None, None, 404, "enterprise.not_found"),
        ("GET", "/api/nothing", None, None, 404, "http.not_found"),
        ("PUT", "/api/enterprises", None, None, 405, "http.method"),
        ("POST", "/api/enterprises", None, b"{not json", 400, "http.bad_json"),
        ("POST", "/api/enterprises", None, b"[1, 2]", 400, "http.bad_json"),
        ("POST", "/api/enterprises", {"code": "X"}, None, 400, "http.bad_field"),
        ("POST", "/api/enterprises", {**NEW, "code": "DEMO"}, None, 409, "enterprise.exists"),
        ("POST", "/api/enterprises", {**NEW, "admin": {"password": "x"}}, None, 400, "auth.weak_password"),
        ("POST", "/api/enterprises/DEMO/services/payroll", {}, None, 400, "service.unknown_module"),
        ("POST", "/api/enterprises/DEMO/services/stock", {"params": [1]}, None, 400, "service.bad_params"),
        ("POST", "/api/enterprises/DEMO/users", {"username": "zhang", "display_name": "Z"}, None, 409, "user.exists"),
        ("POST", "/api/enterprises", None, b"x" * (MAX_BODY_BYTES + 1), 413, "http.too_large"),
    ]
    for method, path, body, raw, status, code in cases:
        got_status, got, _ = await call(base, method, path, body, raw=raw)
        assert (got_status, got["error"]["code"]) == (status, code), (method, path)
        assert got["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_a_refused_service_request_is_recorded_and_nothing_changes(api):
    base, maker = api
    await call(base, "POST", "/api/enterprises", NEW)
    status, body, _ = await call(base, "DELETE", "/api/enterprises/ACME/services/tasks")
    assert (status, body["error"]["code"]) == (409, "service.closed")
    with session_scope(maker) as session:
        last = session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
        assert (last.enterprise_code, last.action, last.module, last.result) == ("ACME", "close", "tasks", "refused")
        acme = services.get_enterprise_by_code(session, "ACME")
        assert not services.is_open(session, acme.id, "tasks")


@pytest_twisted.ensureDeferred
async def test_database_work_runs_off_the_reactor_thread(sessionmaker):
    threads = []

    def maker():
        threads.append(threading.current_thread())
        return sessionmaker()

    pool = ThreadPool(minthreads=1, maxthreads=2, name="operator-api-test")
    pool.start()
    try:
        port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(
            Site(operator_api_resource(maker, TOKEN, reactor, pool)))
        try:
            status, _, _ = await call(f"http://127.0.0.1:{port.getHost().port}", "GET", "/api/enterprises/NOPE")
        finally:
            await port.stopListening()
    finally:
        pool.stop()
    assert status == 404
    assert threads and threading.main_thread() not in threads


@pytest_twisted.ensureDeferred
async def test_a_failed_platform_creation_leaves_no_half_enterprise(api):
    base, maker = api
    status, body, _ = await call(base, "POST", "/api/enterprises", {**NEW, "cloud": "mars"})
    assert (status, body["error"]["code"]) == (404, "cloud.not_found")
    status, _, _ = await call(base, "GET", "/api/enterprises/ACME")
    assert status == 404
