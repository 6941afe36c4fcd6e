"""The operator console's JSON API (issue 3 point 7): create enterprise platforms, open,
change and close their services, manage their users.

Every request carries ``Authorization: Bearer <token>`` (the operator token from the
config). Database work runs on a thread pool, never on the reactor; answers are JSON,
errors ``{"error": {"code": ..., "message": ...}}`` with 400/401/403/404/405/409/413.

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

from erpcore import people, services
from erpcore.db import session_scope
from erpcore.errors import Conflict, ErpError, InvalidInput, NotFound, PermissionDenied

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_STATUS = (
    (NotFound, 404), (PermissionDenied, 403), (Conflict, 409), (services.ServiceClosed, 409),
    (InvalidInput, 400),
)


class ApiError(Exception):
    """An HTTP-level refusal (bad JSON, unknown route, wrong method)."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def operator_api_resource(sessionmaker, token: str, reactor, threadpool) -> Resource:
    """A root resource with the API under ``/api``; ``threadpool`` must be started."""
    if not token:
        raise ValueError("the operator API needs a non-empty token")
    root = Resource()
    root.putChild(b"api", OperatorApi(sessionmaker, token, reactor, threadpool))
    return root


class OperatorApi(Resource):
    isLeaf = True

    def __init__(self, sessionmaker, token: str, reactor, threadpool):
        super().__init__()
        self._sessionmaker = sessionmaker
        self._token = token.encode("utf-8")
        self._reactor = reactor
        self._threadpool = threadpool

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
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self._token):
            raise ApiError(401, "auth.token", "a valid operator bearer token is required",
                           {b"WWW-Authenticate": b'Bearer realm="merp-operator"'})

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
            status = next((s for kind, s in _STATUS if isinstance(error, kind)), 400)
            self._error(request, status, error.code, str(error))
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
        try:
            path = [segment.decode("utf-8") for segment in request.postpath]
        except UnicodeDecodeError:
            raise ApiError(404, "http.not_found", "no such resource") from None
        if path and path[-1] == "":
            path = path[:-1]
        method = request.method.decode("ascii", "replace")
        match path:
            case ["enterprises"]:
                self._allow(method, "POST")
                body = self._json_body(request)
                return (lambda: self._in_session(_create_enterprise, body)), 201
            case ["enterprises", code]:
                self._allow(method, "GET")
                return (lambda: self._in_session(_show_enterprise, code)), 200
            case ["enterprises", code, "services"]:
                self._allow(method, "GET")
                return (lambda: self._in_session(_list_services, code)), 200
            case ["enterprises", code, "services", module]:
                self._allow(method, "POST", "DELETE")
                body = self._json_body(request) if method == "POST" else {}
                return (lambda: self._service_request(code, module, method, body)), 200
            case ["enterprises", code, "users"]:
                self._allow(method, "GET", "POST")
                if method == "GET":
                    return (lambda: self._in_session(_list_users, code)), 200
                body = self._json_body(request)
                return (lambda: self._in_session(_create_user, code, body)), 201
        raise ApiError(404, "http.not_found", "no such resource")

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise ApiError(405, "http.method", f"use {' or '.join(allowed)}",
                           {b"Allow": ", ".join(allowed).encode("ascii")})

    def _in_session(self, fn, *args):
        """One unit of work; an error rolls everything back."""
        with session_scope(self._sessionmaker) as session:
            return fn(session, *args)

    def _service_request(self, code: str, module: str, method: str, body: dict):
        """Open/change/close: a refusal is itself recorded, so it commits and then raises."""
        with session_scope(self._sessionmaker) as session:
            try:
                return _service(session, code, module, method, body)
            except ErpError as error:
                refused = error
        raise refused


# -- the blocking work (runs on the thread pool) --------------------------------------------

def _text(body: dict, key: str, required: bool = True):
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be text", code="http.bad_field", field=key)
    return value


def _enterprise_json(enterprise) -> dict:
    return {
        "id": enterprise.id, "code": enterprise.code, "name": enterprise.name,
        "name_en": enterprise.name_en, "extension": enterprise.extension, "lang": enterprise.lang,
        "active": bool(enterprise.active), "cloud_id": enterprise.cloud_id,
    }


def _create_enterprise(session, body: dict) -> dict:
    admin = body.get("admin") or {}
    modules = body.get("modules") or []
    if not isinstance(admin, dict):
        raise InvalidInput("'admin' must be an object", code="http.bad_field", field="admin")
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise InvalidInput("'modules' must be a list of module names", code="http.bad_field", field="modules")
    enterprise = services.create_enterprise_platform(
        session, code=_text(body, "code"), name=_text(body, "name"), extension=_text(body, "extension"),
        name_en=_text(body, "name_en", False), lang=_text(body, "lang", False) or "zh",
        cloud_code=_text(body, "cloud", False),
        admin_username=_text(admin, "username", False) or "admin",
        admin_display_name=_text(admin, "display_name", False),
        admin_msisdn=_text(admin, "msisdn", False), admin_password=_text(admin, "password", False),
        modules=modules, requested_by="operator-api",
    )
    return {**_enterprise_json(enterprise), "services": services.list_services(session, enterprise.id)}


def _show_enterprise(session, code: str) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    return {**_enterprise_json(enterprise), "services": services.list_services(session, enterprise.id)}


def _list_services(session, code: str) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    return {"services": services.list_services(session, enterprise.id)}


def _service(session, code: str, module: str, method: str, body: dict) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    services.check_module(module)
    params = body.get("params")
    if method == "DELETE":
        request = services.close_service(session, enterprise.id, module, None, "operator-api")
    elif services.is_open(session, enterprise.id, module):
        request = services.change_service(session, enterprise.id, module, params, "operator-api")
    else:
        request = services.open_service(session, enterprise.id, module, params, "operator-api")
    state = {s["module"]: s for s in services.list_services(session, enterprise.id)}[module]
    return {"request": request.as_dict(), "service": state}


def _list_users(session, code: str) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    return {"users": people.list_users(session, enterprise.id)}


def _create_user(session, code: str, body: dict) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    site_id = body.get("site_id")
    if site_id is not None and (not isinstance(site_id, int) or isinstance(site_id, bool)):
        raise InvalidInput("'site_id' must be a number", code="http.bad_field", field="site_id")
    user = people.create_user(
        session, enterprise.id, None, username=_text(body, "username"),
        display_name=_text(body, "display_name"), msisdn=_text(body, "msisdn", False),
        role=_text(body, "role", False) or "clerk", lang=_text(body, "lang", False),
        site_id=site_id, password=_text(body, "password", False),
    )
    return people.snapshot(user)
