"""The sync endpoints one side serves: POST .../command, .../data, .../result, each signed.

The cluster serves one `SyncEndpoints` per enterprise under /sync/<enterprise code>/; the
agent serves its one at /sync/. Database work runs through ``run`` (a thread pool in the
daemons, inline in tests) and never blocks the reactor thread in production.
"""
from __future__ import annotations

import logging
import time

from twisted.internet import defer
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from sync import wire
from sync.side import Side, UnknownTable
from sync.signing import SignatureError, Verifier
from sync.threads import in_steps

log = logging.getLogger(__name__)
OPS = ("heartbeat", "open", "close", "digest", "row_digests")


def inline(f, *args, **kw):
    """Run blocking work at once (tests, tiny deployments)."""
    return defer.maybeDeferred(f, *args, **kw)


class SyncEndpoints(Resource):
    """The three interfaces of one side, for one peer."""

    def __init__(self, side: Side, verifier: Verifier, run=inline, on_heartbeat=None,
                 on_received=None, on_heard=None):
        super().__init__()
        self.side = side
        self.verifier = verifier
        self.run = run
        self.on_heartbeat = on_heartbeat
        self.on_received = on_received  # called with each applied chunk's results
        self.on_heard = on_heard  # called for every request that passes the signature check
        self.refused = 0       # requests refused for their signature (counted for tests, logs)
        self.available = True  # tests switch a side "off" to play a dead peer
        for name in (b"command", b"data", b"result"):
            self.putChild(name, _Interface(self, name.decode()))


class _Interface(Resource):
    isLeaf = True

    def __init__(self, endpoints: SyncEndpoints, name: str):
        super().__init__()
        self.endpoints = endpoints
        self.name = name

    def render_GET(self, request):
        request.setResponseCode(405)
        request.setHeader(b"allow", b"POST")
        return wire.encode({"ok": False, "error": "use POST"})

    def render_POST(self, request):
        endpoints = self.endpoints
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        if not endpoints.available:
            request.setResponseCode(503)
            return wire.encode({"ok": False, "error": "sync paused"})
        body = request.content.read()
        verifier = endpoints.verifier
        try:
            nonce, stamp, now = verifier.check(request.requestHeaders, request.path, body)
        except SignatureError as exc:
            return self._refuse(request, exc)
        d = endpoints.run(verifier.fresh, nonce, stamp, now)  # the nonce memory is stored
        d.addCallback(self._answer, request, body)
        d.addErrback(lambda f: _fail(request, f))
        return NOT_DONE_YET

    def _refuse(self, request, exc):
        endpoints = self.endpoints
        endpoints.refused += 1
        log.warning("sync %s: refused request: %s", endpoints.side.scope, exc)
        request.setResponseCode(401)
        return wire.encode({"ok": False, "error": str(exc)})

    def _answer(self, fresh: bool, request, body: bytes):
        if not fresh:
            return _finish_raw(request, self._refuse(request, SignatureError("replayed request")))
        if self.endpoints.on_heard is not None:
            self.endpoints.on_heard()
        try:
            message = wire.decode(body, (request.getHeader(b"content-type") or b"").decode("latin-1"))
        except wire.WireError as exc:
            return _finish(request, 400, {"ok": False, "error": str(exc)})
        d = defer.maybeDeferred(getattr(self, "_" + self.name), message)
        d.addCallbacks(lambda answer: _finish(request, 200, answer), lambda f: _fail(request, f))
        return d

    # -- the interfaces ----------------------------------------------------------------
    def _command(self, message):
        side, run = self.endpoints.side, self.endpoints.run
        op = message.get("op")
        if op == "heartbeat":
            if self.endpoints.on_heartbeat:
                self.endpoints.on_heartbeat(message)
            return {"ok": True, "time": time.time(), "role": side.role.value}
        if op not in OPS:
            raise _BadRequest(f"unknown op {op!r}; known: {', '.join(OPS)}")
        table = _need(message, "table", str)
        side.source(table)  # UnknownTable early
        if op == "open":
            batch = _need(message, "batch", str)
            return run(side.received, batch).addCallback(lambda seqs: {"ok": True, "received": seqs})
        if op == "close":
            return {"ok": True}
        buckets = _need(message, "buckets", int)
        if not 1 <= buckets <= 65536:
            raise _BadRequest("buckets must be 1..65536")
        if op == "digest":  # a pass over the whole table, a chunk per database call
            return in_steps(run, side.digest_step, side.digest_pass(table, buckets)).addCallback(
                lambda done: {"ok": True, "digests": done.digests})
        wanted = message.get("wanted")
        if not isinstance(wanted, list) or not all(isinstance(w, int) for w in wanted):
            raise _BadRequest("wanted must be a list of bucket numbers")
        return in_steps(run, side.digest_step, side.digest_pass(table, buckets, wanted)).addCallback(
            lambda done: {"ok": True, "rows": done.rows})

    def _data(self, message):
        side = self.endpoints.side
        table = _need(message, "table", str)
        batch = _need(message, "batch", str)
        seq = _need(message, "seq", int)
        rows = message.get("rows")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _BadRequest("rows must be a list of objects")
        side.source(table)

        def applied(results):
            if self.endpoints.on_received is not None:
                self.endpoints.on_received(results)
            return {"ok": True, "seq": seq, "rows": len(results)}
        return self.endpoints.run(side.receive, table, batch, seq, rows).addCallback(applied)

    def _result(self, message):
        side = self.endpoints.side
        batch = _need(message, "batch", str)
        seq = _need(message, "seq", int)

        def answer(results):
            if results is None:
                raise _NotFound(f"chunk {seq} of batch {batch} was not received")
            return {"ok": True, "seq": seq, "results": results}
        return self.endpoints.run(side.results, batch, seq).addCallback(answer)


class _BadRequest(ValueError):
    code = 400


class _NotFound(LookupError):
    code = 404


def _need(message, name, kind):
    value = message.get(name)
    if isinstance(value, bool) or not isinstance(value, kind) or value in ("",):
        raise _BadRequest(f"{name} must be a {kind.__name__}")
    return value


def _finish(request, code, answer):
    if request._disconnected:
        return
    request.setResponseCode(code)
    request.write(wire.encode(answer))
    request.finish()


def _finish_raw(request, body: bytes):
    if not request._disconnected:
        request.write(body)
        request.finish()


def _fail(request, failure):
    exc = failure.value
    if isinstance(exc, UnknownTable):
        code = 404
    else:
        code = getattr(exc, "code", 500) if isinstance(exc, (_BadRequest, _NotFound)) else 500
    if code == 500:
        log.error("sync request failed", exc_info=(failure.type, failure.value, failure.tb))
    _finish(request, code, {"ok": False, "error": str(exc) if code != 500 else "internal error"})
