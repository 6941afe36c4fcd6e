"""The operator console's JSON API (issue 3 point 7): create enterprise platforms, open,
change and close their services, manage their users; PATCH an enterprise's quiet hours.

Every request carries ``Authorization: Bearer <token>`` (the operator token from the
config). Wrong tokens count against the client's address in the sign-in throttle the
console shares (``sign_in_throttle``): after 5 within 15 minutes the address gets 429 with
Retry-After for 15 minutes, the right token too, so the token cannot be guessed at the
speed of the network on either face. A request without a bearer token is not a guess and
is not counted. Database work runs on a thread pool, never on the reactor; answers are JSON,
errors ``{"error": {"code": ..., "message": ...}}`` with 400/401/403/404/405/409/413/429.
This module only turns JSON into typed values and back: what each request does is
``operator_actions``, shared with the console's HTML pages.

    GET    /api/enterprises                          every enterprise platform
    POST   /api/enterprises                          create one (admin user, modules)
    GET    /api/enterprises/CODE                     one, with its services
    PATCH  /api/enterprises/CODE                     quiet hours
    GET    /api/enterprises/CODE/services            its modules and their state
    POST   /api/enterprises/CODE/services/MODULE     open, or change the params of an open one
    DELETE /api/enterprises/CODE/services/MODULE     close
    GET    /api/enterprises/CODE/requests            service request and billing history
    GET    /api/enterprises/CODE/users               its users (with any lockout)
    POST   /api/enterprises/CODE/users               add one
    PATCH  /api/enterprises/CODE/users/ID            display_name, role, lang, site_id, msisdn, push_capable
    POST   /api/enterprises/CODE/users/ID/password   {"password": ...}: reset it (ends a lockout)
    POST   /api/enterprises/CODE/users/ID/unlock     end a lockout after wrong passwords

Mount: ``operator_api_resource(...)`` returns a root resource serving ``/api/...``.
"""
from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from twisted.internet.threads import deferToThreadPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from erpcore.errors import ErpError, InvalidInput
from gateway.web import operator_actions as actions
from gateway.web.operator_actions import in_unit_of_work
from gateway.web.paths import route_path
from gateway.web.sign_in_throttle import SignInThrottle, client_key

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
REQUESTED_BY = "operator-api"


class ApiError(Exception):
    """An HTTP-level refusal (bad JSON, unknown route, wrong method)."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def operator_api_resource(sessionmaker, token: str, reactor, threadpool,
                          throttle: SignInThrottle | None = None) -> Resource:
    """A root resource with the API under ``/api``; ``threadpool`` must be started."""
    root = Resource()
    root.putChild(b"api", OperatorApi(sessionmaker, token, reactor, threadpool, throttle))
    return root


class OperatorApi(Resource):
    isLeaf = True

    def __init__(self, sessionmaker, token: str, reactor, threadpool,
                 throttle: SignInThrottle | None = None):
        """``throttle``: the one the console shares (guesses on either face count
        together); None, one of its own on the reactor's clock."""
        if not token:
            raise ValueError("the operator API needs a non-empty token")
        super().__init__()
        self._sessionmaker = sessionmaker
        self._token = token.encode("utf-8")
        self._reactor = reactor
        self._threadpool = threadpool
        self.throttle = throttle if throttle is not None else SignInThrottle(reactor.seconds)

    # -- HTTP plumbing ---------------------------------------------------------------

    def render(self, request):
        try:
            self._authenticate(request)
            work, status = self._route(request)
        except ApiError as error:
            self._error(request, error.status, error.code, error.message, error.headers)
            return NOT_DONE_YET
        gone = []
        request.notifyFinish().addErrback(gone.append)  # the client hung up
        d = deferToThreadPool(self._reactor, self._threadpool, work)
        d.addCallbacks(
            lambda body: gone or self._write(request, status, body),
            lambda failure: gone or self._failed(request, failure),
        )
        d.addErrback(lambda f: log.error("operator API answer failed: %s", f.getTraceback()))
        return NOT_DONE_YET

    def _authenticate(self, request) -> None:
        header = request.getHeader(b"authorization") or b""
        scheme, _, given = header.partition(b" ")
        given = given.strip() if scheme.lower() == b"bearer" else b""
        address = client_key(getattr(request.getClientAddress(), "host", None))
        locked = self.throttle.locked_for(address)
        if not locked and given and not hmac.compare_digest(given, self._token):
            locked = self.throttle.failed(address)
            if locked:
                log.warning("operator API: %s locked out for %d s after wrong tokens", address, locked)
        if locked:  # the right token is refused too: the answer must not tell a guesser
            raise ApiError(429, "auth.locked", f"too many wrong tokens; try again in {int(locked) + 1} s",
                           {b"Retry-After": str(int(locked) + 1).encode("ascii")})
        if not given or not hmac.compare_digest(given, self._token):
            raise ApiError(401, "auth.token", "a valid operator bearer token is required",
                           {b"WWW-Authenticate": b'Bearer realm="merp-operator"'})
        self.throttle.succeeded(address)

    def _write(self, request, status: int, body: object) -> None:
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.write(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        request.finish()

    def _error(self, request, status: int, code: str, message: str, headers: dict | None = None) -> None:
        for name, value in (headers or {}).items():
            request.setHeader(name, value)
        self._write(request, status, {"error": {"code": code, "message": message}})

    def _failed(self, request, failure) -> None:
        error = failure.value
        if isinstance(error, ApiError):
            self._error(request, error.status, error.code, error.message, error.headers)
            return
        if isinstance(error, ErpError):
            self._error(request, actions.http_status(error), error.code, str(error))
            return
        log.error("operator API failed: %s", failure.getTraceback())
        self._error(request, 500, "internal", "internal error; see the gateway log")

    @staticmethod
    def _json_body(request) -> dict:
        raw = request.content.read(MAX_BODY_BYTES + 1) if request.content else b""
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "http.too_large", f"the body is limited to {MAX_BODY_BYTES} bytes")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "http.bad_json", "the body is not valid UTF-8 JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "http.bad_json", "the body must be a JSON object")
        return body

    # -- routes ---------------------------------------------------------------------

    def _route(self, request) -> tuple[Callable[[], object], int]:
        """The blocking work for this request (run on the pool) and its success status."""
        path = route_path(request)  # not UTF-8: no route matches, 404 below
        method = request.method.decode("ascii", "replace")
        match path:
            case ["enterprises"]:
                self._allow(method, "GET", "POST")
                if method == "GET":
                    return self._unit(lambda s: {"enterprises": actions.list_enterprises(s)}), 200
                body = self._json_body(request)
                return self._unit(_create_enterprise, body), 201
            case ["enterprises", code]:
                self._allow(method, "GET", "PATCH")
                if method == "PATCH":
                    body = self._json_body(request)
                    return self._unit(_update_enterprise, code, body), 200
                return self._unit(actions.show_enterprise, code), 200
            case ["enterprises", code, "services"]:
                self._allow(method, "GET")
                return self._unit(lambda s: {"services": actions.services_of(s, code)}), 200
            case ["enterprises", code, "services", module]:
                self._allow(method, "POST", "DELETE")
                body = self._json_body(request) if method == "POST" else {}
                action = "close" if method == "DELETE" else "set"
                return (lambda: in_unit_of_work(
                    self._sessionmaker, actions.service_request, code, module, action, body.get("params"),
                    REQUESTED_BY, keep_refusals=True)), 200
            case ["enterprises", code, "requests"]:
                self._allow(method, "GET")
                return self._unit(lambda s: {"requests": actions.request_history(s, code)}), 200
            case ["enterprises", code, "users"]:
                self._allow(method, "GET", "POST")
                if method == "GET":
                    return self._unit(lambda s: {"users": actions.users_of(s, code)}), 200
                body = self._json_body(request)
                return self._unit(_create_user, code, body), 201
            case ["enterprises", code, "users", user_id] if user_id.isdigit():
                self._allow(method, "PATCH")
                body = self._json_body(request)
                return self._unit(_update_user, code, int(user_id), body), 200
            case ["enterprises", code, "users", user_id, "password"] if user_id.isdigit():
                self._allow(method, "POST")
                body = self._json_body(request)
                return self._unit(lambda s: actions.set_password(s, code, int(user_id), _text(body, "password"))), 200
            case ["enterprises", code, "users", user_id, "unlock"] if user_id.isdigit():
                self._allow(method, "POST")
                return self._unit(actions.unlock_user, code, int(user_id)), 200
        raise ApiError(404, "http.not_found", "no such resource")

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise ApiError(405, "http.method", f"use {' or '.join(allowed)}",
                           {b"Allow": ", ".join(allowed).encode("ascii")})

    def _unit(self, fn, *args) -> Callable[[], object]:
        """The blocking work: ``fn(session, *args)`` in one unit of work (an error rolls
        everything back)."""
        return lambda: in_unit_of_work(self._sessionmaker, fn, *args)


# -- JSON to typed values (runs on the thread pool) -------------------------------------------

def _text(body: dict, key: str, required: bool = True):
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be text", code="http.bad_field", field=key)
    return value


def _site_id(body: dict):
    site_id = body.get("site_id")
    if site_id is not None and (not isinstance(site_id, int) or isinstance(site_id, bool)):
        raise InvalidInput("'site_id' must be a number", code="http.bad_field", field="site_id")
    return site_id


def _flag(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"'{key}' must be true or false", code="http.bad_field", field=key)
    return value


def _create_enterprise(session, body: dict) -> dict:
    admin = body.get("admin") or {}
    modules = body.get("modules") or []
    if not isinstance(admin, dict):
        raise InvalidInput("'admin' must be an object", code="http.bad_field", field="admin")
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise InvalidInput("'modules' must be a list of module names", code="http.bad_field", field="modules")
    return actions.create_enterprise(
        session, code=_text(body, "code"), name=_text(body, "name"), extension=_text(body, "extension"),
        name_en=_text(body, "name_en", False), lang=_text(body, "lang", False) or "zh",
        cloud=_text(body, "cloud", False),
        admin_username=_text(admin, "username", False) or "admin",
        admin_display_name=_text(admin, "display_name", False),
        admin_msisdn=_text(admin, "msisdn", False), admin_password=_text(admin, "password", False),
        modules=modules, requested_by=REQUESTED_BY,
    )


def _update_enterprise(session, code: str, body: dict) -> dict:
    """PATCH: its quiet hours (``quiet_start`` and ``quiet_end`` together, HH:MM local time)
    and ``utc_offset`` (``"+08:00"``); null = the gateway's default, absent = unchanged."""
    unknown = sorted(set(body) - set(actions.QUIET_FIELDS))
    if unknown:
        raise InvalidInput(f"cannot update {', '.join(unknown)}; quiet_start, quiet_end and utc_offset can be",
                           code="http.bad_field", field=unknown[0])
    return actions.set_quiet_settings(session, code, {key: _text(body, key, False) for key in body})


def _create_user(session, code: str, body: dict) -> dict:
    return actions.create_user(
        session, code, username=_text(body, "username"), display_name=_text(body, "display_name"),
        msisdn=_text(body, "msisdn", False), role=_text(body, "role", False) or "clerk",
        lang=_text(body, "lang", False), site_id=_site_id(body), password=_text(body, "password", False),
        push_capable=_flag(body, "push_capable"),
    )


def _update_user(session, code: str, user_id: int, body: dict) -> dict:
    """PATCH: the fields given change (null clears msisdn, lang and site_id)."""
    unknown = sorted(set(body) - set(actions.USER_FIELDS))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)}; {', '.join(actions.USER_FIELDS)} can be",
                           code="http.bad_field", field=unknown[0])
    readers = {"display_name": lambda: _text(body, "display_name"), "role": lambda: _text(body, "role"),
               "lang": lambda: _text(body, "lang", False), "msisdn": lambda: _text(body, "msisdn", False),
               "site_id": lambda: _site_id(body), "push_capable": lambda: _flag(body, "push_capable")}
    return actions.update_user(session, code, user_id, {key: readers[key]() for key in body})
