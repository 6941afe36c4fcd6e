"""A small HTTP client for the WAP tests: sends a family's Accept header, keeps the
session the way that family's browser would (cookie, or the token found in WML links)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from twisted.internet import reactor
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers

ACCEPT = {
    "wml": "text/vnd.wap.wml, image/vnd.wap.wbmp, */*;q=0.1",
    "xhtml": "application/vnd.wap.xhtml+xml, application/xhtml+xml, text/html;q=0.8",
    "html": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
_TOKEN = re.compile(r"[?&](?:amp;)?s=([A-Za-z0-9_-]+)")


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    location: str | None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def field(page: bytes, name: str) -> str | None:
    """The value of a form field or WML postfield ``name`` in a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page.decode("utf-8"))
    return found.group(1) if found else None


class Client:
    def __init__(self, base: str, family: str):
        self.base, self.family = base, family
        self.cookie: str | None = None
        self.token: str | None = None  # WML: the session token seen in links

    async def get(self, path: str, **query) -> Answer:
        return await self._request(b"GET", self._url(path, query), None)

    async def login(self, enterprise: str, user: str, password: str) -> Answer:
        form = await self.get("/wap/")
        return await self.post("/wap/login", {"ent": enterprise, "user": user, "pw": password,
                                              "t": field(form.body, "t")})

    async def post(self, path: str, fields: dict) -> Answer:
        return await self._request(b"POST", self._url(path, {}), urlencode(fields).encode())

    def _url(self, path: str, query: dict) -> str:
        url = urljoin(self.base, path)
        if self.family == "wml" and self.token and "s=" not in url:
            query = {"s": self.token, **query}
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        return url

    async def _request(self, method: bytes, url: str, body: bytes | None) -> Answer:
        headers = Headers({b"accept": [ACCEPT[self.family].encode()]})
        if body is not None:
            headers.addRawHeader(b"content-type", b"application/x-www-form-urlencoded")
        if self.cookie:
            headers.addRawHeader(b"cookie", self.cookie.encode())
        producer = FileBodyProducer(io.BytesIO(body)) if body is not None else None
        response = await Agent(reactor).request(method, url.encode(), headers, producer)
        data = await readBody(response)
        for raw in response.headers.getRawHeaders(b"set-cookie") or []:
            pair = raw.decode().split(";")[0]
            self.cookie = None if pair.endswith("=") else pair
        location = (response.headers.getRawHeaders(b"location") or [b""])[0].decode() or None
        found = _TOKEN.search(location or "") or _TOKEN.search(data.decode("utf-8", "replace"))
        if found:
            self.token = found.group(1)
        content_type = (response.headers.getRawHeaders(b"content-type") or [b""])[0].decode()
        return Answer(response.code, content_type, data, location)
