"""The operator console as one twisted.web resource (mounted at ``/console``).

Sign-in, sessions, CSRF and routing happen on the reactor (memory only); pages and forms
run on the web thread pool, so the reactor never waits for the database. Anybody without
a session is sent to the sign-in page; a wrong token is refused with one answer whatever
was wrong, and compared in constant time; repeated wrong tokens lock the client's address
out for a while (``throttle``).
"""
from __future__ import annotations

import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import jinja2
from twisted.internet.threads import deferToThreadPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from erpcore.errors import ErpError
from gateway.web.console import pages
from gateway.web.console.pages import Form, FormError, Page, Redirect
from gateway.web.console.sessions import OperatorSession, OperatorSessions
from gateway.web.sign_in_throttle import LOCKOUT_SECONDS, MAX_FAILURES, SignInThrottle, client_key
from gateway.web.operator_actions import http_status, in_unit_of_work
from gateway.web.paths import route_path
from gateway.web.wap.sessions import LoginTokens, csrf_ok

log = logging.getLogger(__name__)

BASE = "/console/"
REFUSED = "Sign-in refused."
LOCKED_OUT = "Too many failed sign-ins from your address; try again later."
COOKIE = b"merp_console"
CONTENT_TYPE = b"text/html; charset=utf-8"
HEADERS = {
    b"cache-control": b"no-store",
    b"content-security-policy": (b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
}

# path shape -> page; "*" matches any one segment, "#" a number (passed on as an int).
GET_ROUTES: dict[tuple[str, ...], Callable] = {
    (): pages.enterprises_page,
    ("enterprises",): pages.enterprises_page,
    ("new-enterprise",): pages.new_enterprise_page,
    ("enterprises", "*"): pages.enterprise_page,
    ("enterprises", "*", "users", "#"): pages.user_page,
}
# path shape -> (form handler, the page to show again when it is refused)
POST_ROUTES: dict[tuple[str, ...], tuple[Callable, Callable]] = {
    ("enterprises",): (pages.create_enterprise, pages.new_enterprise_page),
    ("enterprises", "*", "services", "*"): (
        pages.service, lambda db, code, _module: pages.enterprise_page(db, code)),
    ("enterprises", "*", "quiet-hours"): (pages.quiet_hours, pages.enterprise_page),
    ("enterprises", "*", "users"): (pages.add_user, pages.enterprise_page),
    ("enterprises", "*", "users", "#"): (pages.update_user, pages.user_page),
    ("enterprises", "*", "users", "#", "password"): (pages.reset_password, pages.user_page),
    ("enterprises", "*", "users", "#", "unlock"): (pages.unlock, pages.user_page),
}


def match(shape: tuple[str, ...], path: list[str]) -> list | None:
    """The values of the shape's wildcards in ``path``, or None when it does not fit."""
    if len(shape) != len(path):
        return None
    found: list = []
    for want, got in zip(shape, path):
        if want == "*":
            found.append(got)
        elif want == "#":
            if not (got.isascii() and got.isdigit()) or len(got) > 12:
                return None
            found.append(int(got))
        elif want != got:
            return None
    return found


def _route(routes: dict, path: list[str]):
    for shape, target in routes.items():
        args = match(shape, path)
        if args is not None:
            return target, args
    return None, None


def url(path: str = "", **query) -> str:
    """The absolute path of a console page; ``path`` segments are quoted."""
    quoted = "/".join(quote(segment, safe="") for segment in path.split("/")) if path else ""
    query = {k: v for k, v in query.items() if v is not None}
    return BASE + quoted + ("?" + urlencode(query) if query else "")


def safe_next(value: str | None) -> str:
    """Only a console page may follow a sign-in (no open redirect)."""
    value = value or ""
    if value.startswith(BASE) and "//" not in value and "\\" not in value and len(value) < 300:
        return value
    return BASE


class OperatorConsole(Resource):
    isLeaf = True

    def __init__(
        self, sessionmaker, token: str, reactor, threadpool, *, clock: Callable[[], float] = time.time,
        idle_seconds: float = 1800.0, max_seconds: float = 8 * 3600.0,
        max_failures: int = MAX_FAILURES, lockout_seconds: float = LOCKOUT_SECONDS,
        throttle: SignInThrottle | None = None,
    ):
        """``throttle``: one shared with the JSON API (wrong tokens on either face count
        together); None, one of the console's own on ``clock``."""
        if not token:
            raise ValueError("the operator console needs a non-empty operator token")
        super().__init__()
        self._maker, self._reactor, self._pool = sessionmaker, reactor, threadpool
        self._token = token.encode("utf-8")
        self._max_seconds = max_seconds
        self.sessions = OperatorSessions(clock, idle_seconds, max_seconds)
        self._sign_in_tokens = LoginTokens(secrets.token_bytes(32), clock)
        self.throttle = throttle if throttle is not None else SignInThrottle(clock, max_failures, lockout_seconds)
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("wml_templates", "console"), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
        )
        self._env.globals["url"] = url

    # -- request handling (reactor thread) ---------------------------------------------------

    def render(self, request):
        method = request.method.decode("ascii", "replace")
        method = "GET" if method == "HEAD" else method
        path = route_path(request)
        form = Form(request.args)
        session = self.sessions.get((request.getCookie(COOKIE) or b"").decode("ascii", "replace"))
        if method not in ("GET", "POST"):
            request.setHeader(b"allow", b"GET, POST")
            return self._answer(request, session, Page("notice", {"title": "Refused", "text": "Use GET or POST."}, 405))
        if path == ["sign-in"]:
            return self._sign_in(request, method, form, session)
        if session is None:
            nxt = url("/".join(path)) if method == "GET" and path else None
            return self._redirect(request, url("sign-in", next=nxt))
        if method == "POST" and not csrf_ok(session, form.text("csrf")):
            return self._answer(request, session, Page(
                "notice", {"title": "Refused", "text": "The form expired; open the page again. Nothing changed."}, 403))
        if path == ["sign-out"] and method == "POST":
            self.sessions.end(session.token)
            request.addCookie(COOKIE, b"", path=b"/console", httpOnly=True, max_age=b"0", sameSite="strict")
            return self._redirect(request, url("sign-in"))
        routes = GET_ROUTES if method == "GET" else POST_ROUTES
        target, args = _route(routes, path)
        if target is None:
            other = _route(POST_ROUTES if method == "GET" else GET_ROUTES, path)[0]
            page = Page("notice", {"title": "Refused", "text": "Wrong method for this page."}, 405) if other \
                else Page("notice", {"title": "Not found", "text": "No such page."}, 404)
            return self._answer(request, session, page)
        if method == "GET":
            work = lambda: self._page(target, args)  # noqa: E731
        else:
            work = lambda: self._submit(*target, form, args)  # noqa: E731
        return self._on_pool(request, session, work)

    def _sign_in(self, request, method: str, form: Form, session: OperatorSession | None):
        nxt = safe_next(form.text("next"))
        if method == "GET":
            if session is not None:
                return self._redirect(request, nxt)
            return self._answer(request, None, Page("sign_in", {"title": "Operator sign-in", "next": nxt}))
        address = client_key(getattr(request.getClientAddress(), "host", None))
        locked = self.throttle.locked_for(address)
        if locked:  # before the token is even looked at: the right one is refused too
            return self._locked_out(request, nxt, locked)
        if not self._sign_in_tokens.check(form.text("csrf")):
            return self._answer(request, None, Page(
                "sign_in", {"title": "Operator sign-in", "next": nxt, "error": "The form expired; try again."}, 403))
        given = form.raw("token").strip().encode("utf-8")
        if not hmac.compare_digest(given, self._token):
            locked = self.throttle.failed(address)
            if locked:
                log.warning("operator console: sign-in from %s locked out for %d s after wrong tokens",
                            address, locked)
                return self._locked_out(request, nxt, locked)
            return self._answer(request, None, Page(
                "sign_in", {"title": "Operator sign-in", "next": nxt, "error": REFUSED}, 403))
        self.throttle.succeeded(address)
        if session is not None:
            self.sessions.end(session.token)  # a fresh token at each sign-in (no fixation)
        session = self.sessions.create()
        request.addCookie(COOKIE, session.token.encode("ascii"), path=b"/console", httpOnly=True,
                          sameSite="strict", secure=request.isSecure(), max_age=str(int(self._max_seconds)))
        return self._redirect(request, nxt)

    def _locked_out(self, request, nxt: str, seconds: float):
        request.setHeader(b"retry-after", str(math.ceil(seconds)).encode("ascii"))
        return self._answer(request, None, Page(
            "sign_in", {"title": "Operator sign-in", "next": nxt, "error": f"{REFUSED} {LOCKED_OUT}"}, 429))

    def _on_pool(self, request, session: OperatorSession, work: Callable[[], Page | Redirect]):
        """Run ``work`` and render its page on the pool; write the answer on the reactor."""
        def run():
            try:
                outcome = work()
            except Exception:
                log.exception("operator console page failed")
                outcome = Page("notice", {"title": "Error", "text": "Something went wrong; see the gateway log."},
                               500)
            return outcome if isinstance(outcome, Redirect) else self._render(session, outcome)

        gone = []
        request.notifyFinish().addErrback(gone.append)
        d = deferToThreadPool(self._reactor, self._pool, run)
        d.addCallback(lambda outcome: gone or self._outcome(request, session, outcome))
        d.addErrback(lambda f: log.error("operator console answer failed: %s", f.getTraceback()))
        return NOT_DONE_YET

    def _outcome(self, request, session: OperatorSession, outcome: Rendered | Redirect) -> None:
        if isinstance(outcome, Redirect):
            session.flash = outcome.flash
            self._redirect(request, url(outcome.path))
        else:
            self._write(request, outcome)

    # -- the blocking part (pool thread) -----------------------------------------------------

    def _page(self, view: Callable, args: list) -> Page:
        try:
            return in_unit_of_work(self._maker, view, *args)
        except ErpError as error:
            return _refused(error)

    def _submit(self, handler: Callable, again: Callable, form: Form, args: list) -> Page | Redirect:
        try:
            return handler(self._maker, form, *args)
        except (FormError, ErpError) as error:
            page = self._page(again, args)
            if page.template != "notice":
                status = error.status if isinstance(error, FormError) else http_status(error)
                page.data.update(error=str(error), form=form.shown())
                page.status = status
            return page

    # -- answers -----------------------------------------------------------------------------

    def _render(self, session: OperatorSession | None, page: Page) -> Rendered:
        data = {"title": page.template.replace("_", " ").capitalize(), "error": None, "form": {},
                **page.data, "signed_in": session is not None,
                "flash": session.take_flash() if session is not None else None,
                "csrf": session.csrf if session is not None else self._sign_in_tokens.issue()}
        return Rendered(page.status, self._env.get_template(f"{page.template}.html").render(**data).encode("utf-8"))

    def _answer(self, request, session: OperatorSession | None, page: Page):
        """A small page (sign-in, a refusal) rendered and written on the reactor."""
        self._write(request, self._render(session, page))
        return NOT_DONE_YET

    def _write(self, request, rendered: Rendered) -> None:
        self._headers(request)
        request.setResponseCode(rendered.status)
        request.setHeader(b"content-type", CONTENT_TYPE)
        request.setHeader(b"content-length", str(len(rendered.body)).encode())
        if request.method != b"HEAD":
            request.write(rendered.body)
        request.finish()

    def _redirect(self, request, location: str):
        self._headers(request)
        request.setResponseCode(303)
        request.setHeader(b"location", location.encode("utf-8"))
        request.setHeader(b"content-length", b"0")
        request.finish()
        return NOT_DONE_YET

    @staticmethod
    def _headers(request) -> None:
        for name, value in HEADERS.items():
            request.setHeader(name, value)


@dataclass(frozen=True)
class Rendered:
    status: int
    body: bytes


def _refused(error: ErpError) -> Page:
    status = http_status(error)
    title = "Not found" if status == 404 else "Refused"
    return Page("notice", {"title": title, "text": str(error)}, status)
