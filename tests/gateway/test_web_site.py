"""The gateway's web server: /metrics in Prometheus text, the operator API mounted only with
a token, nothing listening when no endpoint is configured."""
from __future__ import annotations

import time

import pytest_twisted
from twisted.internet import reactor
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers

from gateway.config import Config, GatewaySection, WebSection
from gateway.service import build_gateway
from gateway.web.wap import links
from tests.e2e.harness import seed


def _gateway(url, token=""):
    config = Config(
        gateway=GatewaySection(database=url),
        web=WebSection(listen="tcp:0:interface=127.0.0.1", operator_token=token),
    )
    return build_gateway(config, reactor)


def _port(gateway) -> int:
    return gateway.when_web_listening().result.getHost().port


@pytest_twisted.inlineCallbacks
def test_metrics_are_served_in_prometheus_text_format(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    seed(url)
    gateway = _gateway(url)
    gateway.startService()
    try:
        agent = Agent(reactor)
        response = yield agent.request(b"GET", f"http://127.0.0.1:{_port(gateway)}/metrics".encode())
        body = (yield readBody(response)).decode()
        missing = yield agent.request(b"GET", f"http://127.0.0.1:{_port(gateway)}/api/enterprises".encode())
        yield readBody(missing)
    finally:
        yield gateway.stopService()
    assert response.code == 200
    assert "# TYPE merp_mo_stored_total counter" in body
    assert "merp_commands_handled_total 0.0" in body
    assert missing.code == 404, "no token configured: no operator API"


@pytest_twisted.inlineCallbacks
def test_the_operator_api_is_mounted_behind_its_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    seed(url)
    gateway = _gateway(url, token="s3cret")
    gateway.startService()
    try:
        agent = Agent(reactor)
        target = f"http://127.0.0.1:{_port(gateway)}/api/enterprises/DEMO".encode()
        refused = yield agent.request(b"GET", target)
        yield readBody(refused)
        allowed = yield agent.request(b"GET", target, Headers({b"Authorization": [b"Bearer s3cret"]}))
        body = (yield readBody(allowed)).decode()
    finally:
        yield gateway.stopService()
    assert refused.code == 401
    assert allowed.code == 200 and "DEMO" in body


def test_no_web_endpoint_means_no_web_server(tmp_path):
    gateway = build_gateway(Config(gateway=GatewaySection(database=f"sqlite:///{tmp_path / 'x.db'}")), reactor)
    assert gateway.web is None


@pytest_twisted.inlineCallbacks
def test_the_link_in_an_approval_sms_is_accepted_by_the_gateways_own_wap_pages(tmp_path):
    """The SMS side and the WAP pages share one signing secret, even a random per-start one:
    a link the notifier makes leads to login, a tampered one is refused."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    seed(url)
    config = Config(
        gateway=GatewaySection(database=url),
        web=WebSection(listen="tcp:0:interface=127.0.0.1", wap_secret=""),
    )
    gateway = build_gateway(config, reactor)
    gateway.startService()
    try:
        base = f"http://127.0.0.1:{_port(gateway)}"
        make_link = gateway.pipeline.notifier.approval_link
        link = make_link(1, "1001").replace(config.web.public_url, base)
        agent = Agent(reactor)
        good = yield agent.request(b"GET", link.encode(), Headers({b"Accept": [b"text/html"]}))
        good_body = (yield readBody(good)).decode()
        pages = gateway.web.factory.resource.getStaticEntity(b"wap")
    finally:
        yield gateway.stopService()
    assert good.code == 200 and "Log in" in good_body
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    assert links.check(pages.secret, 1, "1001", query["exp"], query["sig"], time.time()) == "ok"
    assert links.check(pages.secret, 1, "1002", query["exp"], query["sig"], time.time()) == "invalid"
