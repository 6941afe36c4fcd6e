"""Calling the peer's sync endpoints: signed JSON POSTs over HTTP or HTTPS."""
from __future__ import annotations

from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS

from sync import wire
from sync.signing import sign


DIGEST_TIMEOUT_FACTOR = 10  # a digest request may take this many request timeouts


class PeerError(Exception):
    """The peer could not be reached or refused the request; ``status`` when it answered."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def trusting(ca_pem: bytes) -> IPolicyForHTTPS:
    """An HTTPS policy that trusts the certificate(s) in ``ca_pem`` (e.g. the agent's own
    self-signed certificate) and checks the host name as browsers do."""
    from twisted.internet.ssl import Certificate
    from twisted.web.client import BrowserLikePolicyForHTTPS

    return BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(ca_pem))


class SyncClient:
    """POSTs to <base_url>/command, /data and /result, signed with the shared secret."""

    def __init__(self, reactor, base_url: str, secret: bytes, timeout: float = 30.0,
                 tls_policy: IPolicyForHTTPS | None = None):
        self.reactor = reactor
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = timeout
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        kw = {"pool": self.pool, "connectTimeout": timeout}
        if tls_policy is not None:
            kw["contextFactory"] = tls_policy
        self.agent = Agent(reactor, **kw)

    def command(self, op: str, **fields):
        # A digest is a pass over the peer's whole table: a million rows take a while.
        slow = op in ("digest", "row_digests")
        return self.post("command", {"op": op, **fields},
                         self.timeout * DIGEST_TIMEOUT_FACTOR if slow else None)

    def data(self, table: str, batch: str, seq: int, rows: list[dict]):
        return self.post("data", {"table": table, "batch": batch, "seq": seq, "rows": rows})

    def result(self, batch: str, seq: int):
        return self.post("result", {"batch": batch, "seq": seq})

    @defer.inlineCallbacks
    def post(self, interface: str, message: dict, timeout: float | None = None):
        url = f"{self.base_url}/{interface}"
        body = wire.encode(message)
        headers = {b"content-type": [b"application/json"]}
        for name, value in sign(self.secret, urlsplit(url).path.encode(), body,
                                self.reactor.seconds()).items():
            headers[name] = [value]
        from twisted.web.client import FileBodyProducer
        from io import BytesIO

        try:
            d = self.agent.request(b"POST", url.encode(), Headers(headers),
                                   FileBodyProducer(BytesIO(body)))
            d.addTimeout(timeout or self.timeout, self.reactor)
            response = yield d
            raw = yield readBody(response)
        except Exception as exc:  # noqa: BLE001 - every transport failure means "unreachable"
            raise PeerError(f"{interface}: {exc.__class__.__name__}: {exc}") from None
        try:
            answer = wire.decode(raw)
        except wire.WireError:
            answer = {"ok": False, "error": raw[:200].decode("utf-8", "replace")}
        if response.code != 200 or not answer.get("ok"):
            raise PeerError(f"{interface}: HTTP {response.code}: {answer.get('error')}",
                            response.code)
        return answer

    def close(self):
        return self.pool.closeCachedConnections()
