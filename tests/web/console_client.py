"""A small HTTP client for the operator console tests: keeps the console's cookie the way
a browser would (set, replaced, cleared by Max-Age=0) and follows no redirect by itself.
``source`` connects from another loopback address (127.0.0.2: another client machine)."""
from __future__ import annotations

import io
import re
from urllib.parse import urlencode, urljoin

from twisted.internet import reactor
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers

from tests.web.client import Answer

COOKIE = "merp_console"


def csrf_of(page: Answer | bytes) -> str | None:
    body = page.body if isinstance(page, Answer) else page
    found = re.search(rb'name="csrf" value="([^"]+)"', body)
    return found.group(1).decode() if found else None


class ConsoleClient:
    def __init__(self, base: str, source: str | None = None):
        self.base = base
        self._bind = (source, 0) if source else None
        self.cookie: str | None = None
        self.set_cookies: list[str] = []  # every Set-Cookie header seen, for the tests
        self.headers: dict[str, str] = {}  # the last answer's headers (lower-case names)

    async def get(self, path: str, **query) -> Answer:
        url = path + ("?" + urlencode(query) if query else "")
        return await self._request(b"GET", url, None)

    async def post(self, path: str, fields: dict | list) -> Answer:
        return await self._request(b"POST", path, urlencode(fields, doseq=True).encode())

    async def sign_in(self, token: str, next_path: str | None = None) -> Answer:
        form = await self.get("/console/sign-in")
        fields = {"token": token, "csrf": csrf_of(form)}
        if next_path:
            fields["next"] = next_path
        return await self.post("/console/sign-in", fields)

    async def form_post(self, page_path: str, action: str, fields: dict | list) -> Answer:
        """POST ``fields`` with the CSRF token of the page at ``page_path`` (as a browser would)."""
        page = await self.get(page_path)
        extra = [("csrf", csrf_of(page))]
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        return await self.post(action, items + extra)

    async def _request(self, method: bytes, path: str, body: bytes | None) -> Answer:
        headers = Headers({b"accept": [b"text/html"]})
        if body is not None:
            headers.addRawHeader(b"content-type", b"application/x-www-form-urlencoded")
        if self.cookie:
            headers.addRawHeader(b"cookie", self.cookie.encode())
        producer = FileBodyProducer(io.BytesIO(body)) if body is not None else None
        agent = Agent(reactor, bindAddress=self._bind)
        response = await agent.request(method, urljoin(self.base, path).encode(), headers, producer)
        data = await readBody(response)
        self.headers = {name.decode().lower(): values[-1].decode()
                        for name, values in response.headers.getAllRawHeaders()}
        for raw in response.headers.getRawHeaders(b"set-cookie") or []:
            text = raw.decode()
            self.set_cookies.append(text)
            pair = text.split(";")[0]
            if pair.startswith(COOKIE + "="):
                cleared = pair.endswith("=") or "max-age=0" in text.lower()
                self.cookie = None if cleared else pair
        location = (response.headers.getRawHeaders(b"location") or [b""])[0].decode() or None
        content_type = (response.headers.getRawHeaders(b"content-type") or [b""])[0].decode()
        return Answer(response.code, content_type, data, location)
