"""The simulator's HTTP JSON control API (twisted.web).

    POST /mo                          {"from", "to"?, "text"} -> {"id", "parts"}
    GET  /phones/<msisdn>/messages    ?after=N&wait=S -> {"msisdn", "messages", "last"}
    POST /control                     {"throttle"?, "throttle_rate"?, "fail_rate"?,
                                       "receipt_delay"?, "outcomes"?, ...} -> {"settings"}
    GET  /control                     -> {"settings"}
    GET  /status                      -> binds, counters, queue sizes, settings

The messages call is a long poll: it answers at once when the handset has messages after
N, else when one arrives, else after S seconds with none (S is capped at MAX_WAIT).
Bad input gets a 4xx with {"error": "..."}; nothing here raises into twisted.web.
"""
from __future__ import annotations

import json
import re

from twisted.web import server
from twisted.web.resource import Resource

from gateway.text.coding import TextTooLong
from sim.smsc import settings_json

MAX_WAIT = 60.0
MAX_MO_LENGTH = 1000
_MSISDN = re.compile(r"\+?[0-9]{1,20}")
_CONTROL_NUMBERS = ("throttle_rate", "fail_rate", "receipt_delay", "retry_delay", "response_timeout")


class ApiError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _json(request, payload: dict, code: int = 200) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _body(request) -> dict:
    raw = request.content.read() if request.content is not None else b""
    try:
        data = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _arg(request, name: str, default: str) -> str:
    values = request.args.get(name.encode())
    return values[0].decode("utf-8", "replace") if values else default


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, f"{name} must be a number")
    return float(value)


def _msisdn(value, name: str) -> str:
    if not isinstance(value, str) or not _MSISDN.fullmatch(value):
        raise ApiError(400, f"{name} must be a phone number (digits, up to 20)")
    return value


class ControlApi(Resource):
    """The whole API as one leaf resource: a handful of routes, dispatched by path."""

    isLeaf = True

    def __init__(self, smsc, clock=None):
        super().__init__()
        self.smsc = smsc
        self.clock = clock or smsc.clock
        self._waiting: set = set()

    def render(self, request):
        path = [p.decode("utf-8", "replace") for p in request.postpath if p]
        method = request.method.decode("ascii", "replace")
        try:
            return self._route(request, method, path)
        except ApiError as exc:
            return _json(request, {"error": exc.message}, exc.code)

    def _route(self, request, method: str, path: list[str]):
        if path == ["mo"]:
            self._only(method, "POST")
            return self._post_mo(request)
        if path == ["control"]:
            self._only(method, "GET", "POST")
            if method == "POST":
                return self._post_control(request)
            return _json(request, {"settings": settings_json(self.smsc.settings)})
        if path == ["status"]:
            self._only(method, "GET")
            return _json(request, self.smsc.status())
        if len(path) == 3 and path[0] == "phones" and path[2] == "messages":
            self._only(method, "GET")
            return self._get_messages(request, _msisdn(path[1], "the phone number"))
        raise ApiError(404, "no such resource; try POST /mo, GET /phones/<msisdn>/messages, "
                            "POST /control, GET /status")

    @staticmethod
    def _only(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise ApiError(405, f"use {' or '.join(allowed)} here")

    def _post_mo(self, request):
        data = _body(request)
        sender = _msisdn(data.get("from"), "from")
        recipient = data.get("to")
        if recipient is not None:
            recipient = _msisdn(recipient, "to")
        text = data.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "text must be a non-empty string")
        if len(text) > MAX_MO_LENGTH:
            raise ApiError(400, f"text is longer than {MAX_MO_LENGTH} characters")
        try:
            mo = self.smsc.queue_mo(sender, recipient, text)
        except TextTooLong as exc:
            raise ApiError(400, str(exc)) from None
        return _json(request, {"id": mo.mo_id, "parts": mo.parts_left})

    def _post_control(self, request):
        data = _body(request)
        changes = {}
        for name, value in data.items():
            if name == "throttle":
                if not isinstance(value, bool):
                    raise ApiError(400, "throttle must be true or false")
                changes[name] = value
            elif name == "throttle_rate" and value is None:
                changes[name] = None
            elif name in _CONTROL_NUMBERS:
                changes[name] = _number(value, name)
            elif name == "window":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ApiError(400, "window must be an integer")
                changes[name] = value
            elif name == "outcomes":
                changes[name] = value
            else:
                raise ApiError(400, f"unknown setting {name!r}")
        try:
            self.smsc.update(**changes)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        return _json(request, {"settings": settings_json(self.smsc.settings)})

    def _get_messages(self, request, msisdn: str):
        try:
            after = int(_arg(request, "after", "0"))
            wait = float(_arg(request, "wait", "0"))
        except ValueError:
            raise ApiError(400, "after must be an integer and wait a number of seconds") from None
        if wait != wait or wait < 0:  # NaN or negative
            raise ApiError(400, "wait must be a number of seconds >= 0")
        wait = min(wait, MAX_WAIT)
        handset = self.smsc.phonebook.get(msisdn)
        messages = handset.messages_after(after)
        if messages or wait == 0:
            return _json(request, _messages_json(handset, messages))
        self._long_poll(request, handset, after, wait)
        return server.NOT_DONE_YET

    def _long_poll(self, request, handset, after: int, wait: float) -> None:
        state = {"done": False}

        def finish(_=None):
            if state["done"]:
                return
            state["done"] = True
            handset.remove_listener(on_message)
            self._waiting.discard(finish)
            if timer.active():
                timer.cancel()
            if not request_gone["gone"]:
                request.write(_json(request, _messages_json(handset, handset.messages_after(after))))
                request.finish()

        def on_message(_handset, _message):
            finish()

        def gone(_):
            request_gone["gone"] = True
            finish()

        request_gone = {"gone": False}
        timer = self.clock.callLater(wait, finish)
        handset.add_listener(on_message)
        self._waiting.add(finish)
        request.notifyFinish().addBoth(gone)

    def close(self) -> None:
        """Answer every waiting long poll now (at shutdown, so no connection hangs)."""
        for finish in list(self._waiting):
            finish()


def _messages_json(handset, messages) -> dict:
    return {
        "msisdn": handset.msisdn,
        "messages": [m.as_json() for m in messages],
        "last": handset.last_seq,
    }


def control_site(api: ControlApi) -> server.Site:
    site = server.Site(api)
    site.displayTracebacks = False
    return site
