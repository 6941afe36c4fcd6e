"""The WAP pages as one twisted.web resource (mounted at ``/wap``).

Routing, sessions and CSRF happen on the reactor (memory only); the view and the template
run on the web thread pool, so the reactor never waits for the database. WML clients keep
their session token in the URL (``s=``), the others in an HttpOnly cookie.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlencode

from twisted.internet.threads import deferToThreadPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from erpcore.db import session_scope
from erpcore.errors import ErpError
from erpcore.items import ItemError
from erpcore.sites import SiteError
from gateway.web.paths import route_path
from gateway.web.wap import views
from gateway.web.wap.markup import PAGE_SIZE, WML, Rendered, Renderer, choose_family
from gateway.web.wap.pending_cache import PendingCache
from gateway.web.wap.pending_reads import PendingReads, SharedRead
from gateway.web.wap.sessions import LoginTokens, SessionStore, WapSession, csrf_ok

log = logging.getLogger(__name__)

COOKIE = b"merp_wap"
MAX_PARAM = 1000
BASE = "/wap/"
# Seconds a pending list may lag a change this process cannot see (see pending_cache):
# every change made in this process drops the list at once, so this bounds only what
# happens elsewhere. 10 s: 200 managers refilling every 2 s cost more CPU than their hits.
PENDING_TTL = 10.0

# (path shape, method) -> (view, needs a session); "*" in a shape matches one segment.
_ROUTES = {
    (("menu",), "GET"): views.menu,
    (("pending",), "GET"): views.pending,
    (("orders",), "GET"): views.my_orders,
    (("stock",), "GET"): views.stock,
    (("alerts",), "GET"): views.alert_list,
    (("alerts",), "POST"): views.alert_change,
    (("doc", "*"), "GET"): lambda call, number: views.document(call, number),
    (("doc", "*", "decide"), "POST"): views.decide,
}


# The page a "Back" link leads to, per template (WML also has the browser's own back).
_BACK = {"doc": "pending", "login": "", "menu": ""}


def _shape(path: list[str]) -> tuple[tuple[str, ...], list[str]]:
    if path[:1] == ["doc"] and len(path) >= 2:
        return ("doc", "*", *path[2:]), [path[1]]
    return tuple(path), []


class WapPages(Resource):
    isLeaf = True

    def __init__(
        self, sessionmaker, reactor, threadpool, *, secret: bytes | None = None,
        idle_seconds: float = 900.0, clock: Callable[[], float] = time.time,
        renderer: Renderer | None = None, pending_ttl: float = PENDING_TTL,
    ):
        super().__init__()
        self._sessionmaker, self._reactor, self._pool = sessionmaker, reactor, threadpool
        self.secret = secret or secrets.token_bytes(32)
        self._clock = clock
        self.sessions = SessionStore(clock, idle_seconds)
        self._login_tokens = LoginTokens(self.secret, clock)
        self._renderer = renderer or Renderer()
        # The pending list is the page managers reload most: kept until an approval event
        # of the enterprise commits in this process, or pending_ttl seconds (see pending_cache).
        self.pending_cache = PendingCache(pending_ttl)
        # A miss reads the enterprise's pending documents once for all its managers.
        self.pending_reads = PendingReads(self.pending_cache, self._read_pending)

    # -- request handling (reactor thread) -------------------------------------------------

    def render(self, request):
        params = _params(request)
        fmt = params.get("fmt") if params.get("fmt") in ("wml", "xhtml", "html") else None
        family = choose_family(_header(request, b"accept"), fmt)
        token = params.get("s") or (request.getCookie(COOKIE) or b"").decode("ascii", "replace")
        wap = self.sessions.get(token)
        method = request.method.decode("ascii", "replace")
        path = route_path(request)
        call = views.Call(None, wap, params, PAGE_SIZE[family], self._clock(), self.secret)
        if wap is not None and path == ["pending"] and method in ("GET", "HEAD"):
            # WML links carry the session token, so a WML page is one session's own.
            key = (wap.user_id, family, fmt, params.get("p", "1"), wap.token if family == WML else None)
            hit = self.pending_cache.get(wap.enterprise_id, key, call.now)
            if hit is not None:
                self._write(request, family, *hit)
                return NOT_DONE_YET
            shared = self.pending_reads.get(wap.enterprise_id, call.now)
            shared.addCallback(lambda read: deferToThreadPool(
                self._reactor, self._pool, self._pending_page, read, call, family, fmt, key))
            return self._answer(request, shared, call, family, fmt)
        work = self._route(method, path, call, token, request)
        decided = method == "POST" and path[-1:] == ["decide"]
        return self._answer(request, deferToThreadPool(
            self._reactor, self._pool, self._run, work, call, family, fmt, decided), call, family, fmt)

    def _answer(self, request, d, call: views.Call, family: str, fmt: str | None):
        """Write the page ``d`` brings (or the error page), unless the client has gone."""
        gone = []
        request.notifyFinish().addErrback(gone.append)
        d.addCallback(lambda result: gone or self._write(request, family, *result))
        d.addErrback(lambda f: log.error("WAP page failed: %s", f.getTraceback()) or (
            gone or self._write(request, family, *self._crash(call, family, fmt))))
        return NOT_DONE_YET

    def _route(self, method: str, path: list[str], call: views.Call, token: str, request):
        """The view to run (a callable of the Call), deciding login and CSRF first."""
        if method not in ("GET", "HEAD", "POST"):
            return lambda c: views.notice("Refused", "Use GET or POST.", 405)
        if path in ([], ["login"]) and method != "POST":
            return views.menu if call.wap else (lambda c: views.login_form(
                c, "Your session has ended; log in again." if token else None))
        if path == ["login"]:
            if not self._login_tokens.check(call.params.get("t")):
                return lambda c: views.login_form(c, "The form expired; try again.", 403)
            return lambda c: views.login(c, self.sessions)
        if call.wap is None:
            kept = {k: v for k, v in call.params.items() if k not in ("s", "t")}
            nxt = BASE + "/".join(path) + ("?" + urlencode(kept) if kept else "") if method == "GET" else ""
            call.params = {"next": nxt}
            return lambda c: views.login_form(c, "Your session has ended; log in again." if token else None)
        if method == "POST" and not csrf_ok(call.wap, call.params.get("t")):
            return lambda c: views.notice("Refused", "The form expired; open the page again.", 403)
        if path == ["logout"] and method == "POST":
            self.sessions.end(call.wap.token)
            call.wap = None
            return lambda c: views.Page("login", {"error": "Logged out.", "next": "", "ent": ""},
                                        end_session=True)
        shape, args = _shape(path)
        view = _ROUTES.get((shape, "GET" if method == "HEAD" else method))
        if view is None:
            if any(s == shape for s, _m in _ROUTES):
                return lambda c: views.notice("Refused", "Wrong method for this page.", 405)
            return lambda c: views.notice("Not found", "No such page.", 404)
        return lambda c: view(c, *args)

    # -- the blocking part (pool thread) ---------------------------------------------------

    def _run(self, work, call: views.Call, family: str, fmt: str | None, decided: bool = False):
        """The page for ``work`` in one unit of work; ``decided``: a decision was posted,
        after which the decider must never see the old list."""
        acting = call.wap.enterprise_id if call.wap is not None else None
        try:
            with session_scope(self._sessionmaker) as db:
                call.db = db
                try:
                    page = work(call)
                except (ErpError, ItemError, SiteError) as error:
                    db.rollback()
                    page = views.refused(error)
        finally:
            call.db = None
        result = self._page(page, call, family, fmt)
        if decided and acting is not None:
            # Committed above. Its DocumentDecided event has dropped the lists already;
            # this does not depend on that.
            self.pending_cache.invalidate([acting])
        return result

    def _read_pending(self, enterprise_id: int):
        """The enterprise's shared read (pending_reads), on the web pool."""
        def read():
            with session_scope(self._sessionmaker) as db:
                return views.read_pending(db, enterprise_id)
        return deferToThreadPool(self._reactor, self._pool, read)

    def _pending_page(self, read: SharedRead, call: views.Call, family: str, fmt: str | None, key: tuple):
        """One manager's pending page from the enterprise's shared read, kept while the
        read is current (no database here)."""
        try:
            page = views.pending_list(call, read.approval_open, read.pending)
        except ErpError as error:
            page = views.refused(error)
        result = self._page(page, call, family, fmt)
        if page.status == 200:
            self.pending_cache.put(call.wap.enterprise_id, key, read.generation, result, call.now,
                                   not_after=read.expires(self.pending_cache.ttl))
        return result

    def _crash(self, call, family, fmt):
        return self._page(views.notice("Error", "Something went wrong; try again.", 500), call, family, fmt)

    def _page(self, page: views.Page, call: views.Call, family: str, fmt: str | None):
        wap = page.new_session or (None if page.end_session else call.wap)
        next_path = page.data.get("next") if page.new_session else None
        if next_path:
            return None, page, wap, self._url(family, fmt, wap, next_path)

        def url(path: str, **query) -> str:
            return self._url(family, fmt, wap, BASE + path, **query)

        data = {"back": _BACK.get(page.template, "menu"), **page.data, "url": url, "fmt": fmt,
                "me": wap.display_name if wap else None,
                "csrf": wap.csrf if wap else self._login_tokens.issue(), "logged_in": wap is not None}
        data.setdefault("title", page.template.capitalize())
        return self._renderer.render(family, page.template, data, page.status), page, wap, None

    @staticmethod
    def _url(family: str, fmt: str | None, wap: WapSession | None, path: str, **query) -> str:
        extra = {}
        if family == WML and wap is not None:
            extra["s"] = wap.token
        if fmt:
            extra["fmt"] = fmt
        extra.update({k: v for k, v in query.items() if v is not None})
        if not extra:
            return path
        return path + ("&" if "?" in path else "?") + urlencode(extra)

    # -- answer (reactor thread) ------------------------------------------------------------

    def _write(self, request, family: str, rendered: Rendered | None, page: views.Page, wap, redirect):
        request.setHeader(b"cache-control", b"no-cache, no-store, private")
        request.setHeader(b"vary", b"Accept, Cookie")
        if family != WML and page.new_session is not None:
            request.addCookie(COOKIE, page.new_session.token.encode(), path=b"/wap", httpOnly=True,
                              sameSite="lax")
        if page.end_session:
            request.addCookie(COOKIE, b"", path=b"/wap", httpOnly=True, max_age=b"0")
        if redirect is not None:
            request.setResponseCode(302 if family == WML else 303)
            request.setHeader(b"location", redirect.encode("utf-8"))
            request.finish()
            return
        request.setResponseCode(rendered.status)
        request.setHeader(b"content-type", rendered.content_type)
        request.setHeader(b"content-length", str(len(rendered.body)).encode())
        if request.method != b"HEAD":
            request.write(rendered.body)
        request.finish()


def _header(request, name: bytes) -> str:
    return (request.getHeader(name) or b"").decode("latin-1")


def _params(request) -> dict[str, str]:
    """First value of each query or form field, as text; undecodable ones are dropped."""
    params = {}
    for key, values in (request.args or {}).items():
        try:
            name, value = key.decode("utf-8"), values[0].decode("utf-8")
        except (UnicodeDecodeError, IndexError):
            continue
        params[name] = value[:MAX_PARAM]
    return params
