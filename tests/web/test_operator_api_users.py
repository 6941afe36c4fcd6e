"""The operator JSON API beside the console: the enterprise list, the request history and
user management (role, phone, push-capable flag, password, unlock), through the same
operator_actions the console pages use; bad input is refused and changes nothing."""
from __future__ import annotations

import io
import json

import pytest_twisted
from twisted.internet import reactor
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers

from erpcore import auth, people
from erpcore.db import session_scope
from erpcore.users import User
from tests.web.conftest import OPERATOR_TOKEN


async def call(base, method, path, body=None, token=OPERATOR_TOKEN):
    """(status, decoded JSON) of one request."""
    headers = Headers({b"content-type": [b"application/json"], b"authorization": [f"Bearer {token}".encode()]})
    data = json.dumps(body).encode() if body is not None else None
    producer = FileBodyProducer(io.BytesIO(data)) if data is not None else None
    response = await Agent(reactor).request(method.encode(), (base + path).encode(), headers, producer)
    return response.code, json.loads((await readBody(response)).decode("utf-8"))


def snapshot(sessionmaker, user_id) -> dict:
    with session_scope(sessionmaker) as s:
        return people.snapshot(s.get(User, user_id))


@pytest_twisted.ensureDeferred
async def test_the_api_lists_enterprises_and_their_request_history(operator_site):
    base = operator_site[0]
    status, body = await call(base, "GET", "/api/enterprises")
    assert status == 200 and [e["code"] for e in body["enterprises"]] == ["DEMO", "OTHER"]
    await call(base, "POST", "/api/enterprises/DEMO/services/stock", {"params": {"n": 1}})
    await call(base, "POST", "/api/enterprises/DEMO/services/nope", {})
    status, body = await call(base, "GET", "/api/enterprises/DEMO/requests")
    first = body["requests"][0]
    assert status == 200 and (first["action"], first["module"], first["params"]) == ("change", "stock", {"n": 1})
    assert first["requested_by"] == "operator-api" and first["billing_state"] == "recorded"


@pytest_twisted.ensureDeferred
async def test_a_users_push_flag_role_and_phone_are_set_through_the_api(operator_site, sessionmaker):
    base = operator_site[0]
    status, li = await call(base, "POST", "/api/enterprises/DEMO/users",
                            {"username": "li", "display_name": "李四", "push_capable": True})
    assert status == 201 and li["push_capable"] is True and li["locked_until"] is None
    status, body = await call(base, "PATCH", f"/api/enterprises/DEMO/users/{li['id']}",
                              {"push_capable": False, "role": "manager", "msisdn": "13800000077"})
    assert status == 200 and (body["push_capable"], body["role"], body["msisdn"]) == (False, "manager", "13800000077")
    assert snapshot(sessionmaker, li["id"])["push_capable"] is False
    status, body = await call(base, "PATCH", f"/api/enterprises/DEMO/users/{li['id']}", {"msisdn": None})
    assert status == 200 and body["msisdn"] is None
    status, users = await call(base, "GET", "/api/enterprises/DEMO/users")
    assert {u["username"]: u["push_capable"] for u in users["users"]}["li"] is False


@pytest_twisted.ensureDeferred
async def test_bad_user_changes_are_refused_and_change_nothing(operator_site, sessionmaker, world):
    base = operator_site[0]
    zhang = world.users["zhang"]
    before = snapshot(sessionmaker, zhang)
    cases = [
        ({"push_capable": "yes"}, 400, "http.bad_field"),
        ({"push_capable": 1}, 400, "http.bad_field"),
        ({"password": "x"}, 400, "http.bad_field"),
        ({}, 400, "user.no_change"),
        ({"msisdn": "13800000099", "role": "emperor"}, 400, "rbac.unknown_role"),
        ({"role": "manager", "msisdn": "13800000002"}, 409, "user.msisdn_taken"),
        ({"site_id": "WH1"}, 400, "http.bad_field"),
    ]
    for body, status, code in cases:
        got, answer = await call(base, "PATCH", f"/api/enterprises/DEMO/users/{zhang}", body)
        assert (got, answer["error"]["code"]) == (status, code), body
        assert snapshot(sessionmaker, zhang) == before, body
    got, answer = await call(base, "PATCH", f"/api/enterprises/OTHER/users/{zhang}", {"role": "admin"})
    assert (got, answer["error"]["code"]) == (404, "user.not_found")
    got, answer = await call(base, "POST", "/api/enterprises/DEMO/users",
                             {"username": "li", "display_name": "Li", "push_capable": "true"})
    assert (got, answer["error"]["code"]) == (400, "http.bad_field")


@pytest_twisted.ensureDeferred
async def test_a_password_is_reset_and_a_lockout_ended_through_the_api(operator_site, sessionmaker, world):
    base = operator_site[0]
    zhang = world.users["zhang"]
    with session_scope(sessionmaker) as s:
        for _ in range(auth.MAX_FAILURES):
            auth.verify_password(s, s.get(User, zhang), "not-it")
    status, users = await call(base, "GET", "/api/enterprises/DEMO/users")
    assert {u["username"]: u["locked_until"] for u in users["users"]}["zhang"] is not None
    status, body = await call(base, "POST", f"/api/enterprises/DEMO/users/{zhang}/unlock")
    assert status == 200 and body["unlocked"] is True and body["user"]["locked_until"] is None
    status, body = await call(base, "POST", f"/api/enterprises/DEMO/users/{zhang}/unlock")
    assert status == 200 and body["unlocked"] is False
    status, body = await call(base, "POST", f"/api/enterprises/DEMO/users/{zhang}/password", {"password": "abc"})
    assert (status, body["error"]["code"]) == (400, "auth.weak_password")
    status, body = await call(base, "POST", f"/api/enterprises/DEMO/users/{zhang}/password", {"password": "brand-new"})
    assert status == 200 and body["username"] == "zhang"
    with session_scope(sessionmaker) as s:
        assert auth.authenticate(s, "DEMO", "zhang", "brand-new").id == zhang
