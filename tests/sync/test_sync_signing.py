"""Requests are signed: a wrong signature, a stale timestamp or a replayed request is
refused; the endpoints answer bad input with a clear error."""
from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers
from twisted.web.client import FileBodyProducer
from io import BytesIO

from sync import wire
from sync.client import PeerError, SyncClient
from sync.signing import SignatureError, Verifier, sign


def test_a_signed_request_verifies_once_and_its_replay_is_refused():
    clock = task.Clock()
    clock.advance(1_700_000_000)
    verifier = Verifier(b"k", clock)
    headers = sign(b"k", b"/sync/data", b"{}", now=clock.seconds())
    verifier.verify(headers, b"/sync/data", b"{}")
    with pytest.raises(SignatureError, match="replayed"):
        verifier.verify(headers, b"/sync/data", b"{}")


@pytest.mark.parametrize("secret, path, body, skew, reason", [
    (b"wrong", b"/sync/data", b"{}", 0, "bad signature"),
    (b"k", b"/sync/other", b"{}", 0, "bad signature"),
    (b"k", b"/sync/data", b"{ }", 0, "bad signature"),
    (b"k", b"/sync/data", b"{}", 301, "replay window"),
    (b"k", b"/sync/data", b"{}", -301, "replay window"),
])
def test_tampered_or_stale_requests_are_refused(secret, path, body, skew, reason):
    clock = task.Clock()
    clock.advance(1_700_000_000)
    headers = sign(secret, b"/sync/data", b"{}", now=clock.seconds() + skew)
    with pytest.raises(SignatureError, match=reason):
        Verifier(b"k", clock).verify(headers, path, body)


def test_an_unsigned_request_is_refused():
    with pytest.raises(SignatureError, match="unsigned"):
        Verifier(b"k").verify({}, b"/sync/data", b"{}")


@pytest_twisted.inlineCallbacks
def test_the_endpoints_refuse_a_wrong_secret_and_a_replay_over_http(pair):
    intruder = SyncClient(reactor, pair.cluster_base, b"not-the-secret", timeout=5)
    pair.clients.append(intruder)
    with pytest.raises(PeerError) as caught:
        yield intruder.command("heartbeat")
    assert caught.value.status == 401
    body = wire.encode({"op": "heartbeat"})
    path = f"{pair.cluster_base.split('127.0.0.1', 1)[1].split('/', 1)[1]}/command"
    headers = sign(b"s3cret-DEMO", ("/" + path).encode(), body)
    codes = []
    for _ in range(2):
        codes.append((yield _raw_post(pair.cluster_base + "/command", headers, body))[0])
    assert codes == [200, 401]
    assert pair.cluster_endpoints.refused == 2


@defer.inlineCallbacks
def _raw_post(url, headers, body, content_type=b"application/json"):
    agent = Agent(reactor)
    all_headers = {k: [v] for k, v in headers.items()}
    all_headers[b"content-type"] = [content_type]
    response = yield agent.request(b"POST", url.encode(), Headers(all_headers),
                                   FileBodyProducer(BytesIO(body)))
    raw = yield readBody(response)
    return response.code, raw


@pytest_twisted.inlineCallbacks
def test_bad_requests_get_a_clear_answer(pair):
    client = pair.agent_peer.client
    for message, status, text in [
        ({"op": "explode"}, 400, "unknown op"),
        ({"op": "open", "table": "nope", "batch": "b"}, 404, "not synced"),
    ]:
        with pytest.raises(PeerError) as caught:
            yield client.post("command", message)
        assert caught.value.status == status and text in str(caught.value)
    with pytest.raises(PeerError) as caught:
        yield client.data("items", "b", 0, "rows?")
    assert caught.value.status == 400
    with pytest.raises(PeerError) as caught:
        yield client.result("never", 0)
    assert caught.value.status == 404
    answer = yield client.data("items", "b1", 0, [{"pk": ["A"], "values": ["A"], "base": 0}])
    assert answer["ok"]
    results = (yield client.result("b1", 0))["results"]
    assert results[0]["status"] == "error" and "values needs 7 fields" in results[0]["message"]


@pytest_twisted.inlineCallbacks
def test_a_data_request_in_xml_is_applied(pair):
    body = ("<data batch='x1' table='items' seq='0'><row base='0' changed_ms='5'>"
            "<pk><v>XML1</v></pk><values><v>XML1</v><v>XML机</v><v null='1'/><v>Acme</v>"
            "<v null='1'/><v null='1'/><v>3.50</v></values></row>"
            "<row base='0'><pk><v>CHG1</v></pk></row></data>").encode()
    path = pair.cluster_base.split("127.0.0.1:", 1)[1].split("/", 1)[1]
    headers = sign(b"s3cret-DEMO", f"/{path}/data".encode(), body)
    code, raw = yield _raw_post(pair.cluster_base + "/data", headers, body, b"application/xml")
    assert code == 200, raw
    results = (yield pair.agent_peer.client.result("x1", 0))["results"]
    assert results[0]["status"] == "applied"
    assert pair.cluster_rows("items")[("XML1",)][1:3] == ("XML机", "\x00")
    assert results[1]["status"] == "error"  # CHG1 still has stock rows referring to it
    assert ("CHG1",) in pair.cluster_rows("items")


def test_bad_xml_is_a_wire_error_not_a_crash():
    with pytest.raises(wire.WireError):
        wire.decode(b"<data><row>", "application/xml")
    with pytest.raises(wire.WireError):
        wire.decode(b"[1, 2]")
    with pytest.raises(wire.WireError):
        wire.decode(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><data seq="z"/>')


def _signed_heartbeat(path: str):
    body = wire.encode({"op": "heartbeat"})
    return sign(b"s3cret-DEMO", path.encode(), body), body


@pytest_twisted.inlineCallbacks
def test_a_request_replayed_to_a_restarted_agent_is_still_refused(pair):
    headers, body = _signed_heartbeat("/sync/command")
    assert (yield _raw_post(pair.agent_base + "/command", headers, body))[0] == 200
    yield pair.kill_agent()
    yield pair.start_agent()  # a new process: nothing of the old one in memory
    code, raw = yield _raw_post(pair.agent_base + "/command", headers, body)
    assert (code, wire.decode(raw)["error"]) == (401, "replayed request")
    fresh, body = _signed_heartbeat("/sync/command")
    assert (yield _raw_post(pair.agent_base + "/command", fresh, body))[0] == 200


@pytest_twisted.inlineCallbacks
def test_a_request_replayed_to_a_restarted_gateway_is_still_refused(pair):
    from twisted.internet.endpoints import TCP4ServerEndpoint
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    from sync.http import SyncEndpoints
    from tests.sync.harness import Pair

    headers, body = _signed_heartbeat("/sync/DEMO/command")
    assert (yield _raw_post(pair.cluster_base + "/command", headers, body))[0] == 200
    restarted = Resource()  # the gateway's endpoints built anew on the same database
    restarted.putChild(b"sync", Resource())
    restarted.children[b"sync"].putChild(
        b"DEMO", SyncEndpoints(pair.cluster, Pair._verifier(pair.cluster)))
    port = yield TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(restarted))
    pair.ports.append(port)
    base = f"http://127.0.0.1:{port.getHost().port}/sync/DEMO"
    code, raw = yield _raw_post(base + "/command", headers, body)
    assert (code, wire.decode(raw)["error"]) == (401, "replayed request")


def test_stored_nonces_survive_a_restart_and_are_pruned_by_the_window(tmp_path):
    from sqlalchemy import create_engine

    from sync.models import create_tables
    from sync.nonces import StoredNonces

    engine = create_engine(f"sqlite:///{tmp_path / 'n.db'}")
    with engine.begin() as conn:
        create_tables(conn)
    t0 = 1_700_000_000
    first = StoredNonces(engine, "E1")
    assert [first.remember(n, t0, t0, 300) for n in ("a1", "a2", "a1")] == [True, True, False]
    again = StoredNonces(engine, "E1")  # after a restart
    assert again.remember("a2", t0, t0 + 299, 300) is False
    assert StoredNonces(engine, "E2").remember("a2", t0, t0, 300) is True  # per enterprise
    assert again.remember("b1", t0 + 400, t0 + 400, 300) is True  # the a-nonces are stale now
    assert again.count() == 1
    engine.dispose()


def test_a_nonce_that_is_not_short_hex_is_refused_before_it_is_stored():
    clock = task.Clock()
    clock.advance(1_700_000_000)
    from sync.signing import signature

    stamp = str(int(clock.seconds()))
    for nonce in ("x" * 24, "a" * 65, "ab"):
        headers = {b"X-Merp-Timestamp": stamp.encode(), b"X-Merp-Nonce": nonce.encode(),
                   b"X-Merp-Signature": signature(b"k", stamp, nonce, b"/p", b"").encode()}
        with pytest.raises(SignatureError, match="bad nonce"):
            Verifier(b"k", clock).check(headers, b"/p", b"")
