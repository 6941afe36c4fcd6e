"""The wiring: a gateway with [sync] peers and [web] listen serves /sync/<code>/, and an
agent built from agent.ini syncs with it (thread pools, scheduler, real services)."""
from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor

from gateway import config as gateway_config
from gateway.service import build_gateway
from sync import example
from sync.agent import AgentService
from sync.settings import SettingsError, parse_agent, parse_peers
from tests.sync.harness import make_cluster_db, make_enterprise_db


def two_sides(tmp_path):
    """(gateway config, agent.ini text): the demo cluster and
    an enterprise database on SQLite files of their own, sharing the secret "k", the
    agent listening on an ephemeral port."""
    cluster_url = f"sqlite:///{tmp_path / 'cluster.db'}"
    enterprise_url = f"sqlite:///{tmp_path / 'enterprise.db'}"
    make_cluster_db(cluster_url)
    make_enterprise_db(enterprise_url).dispose()
    peers = tmp_path / "peers.ini"
    peers.write_text("[enterprise:DEMO]\nsecret = k\nagent_url = http://127.0.0.1:1/sync\n")
    cfg = gateway_config.parse(
        f"[gateway]\ndatabase = {cluster_url}\n[web]\nlisten = tcp:0:interface=127.0.0.1\n"
        f"[sync]\npeers = {peers}\n")
    agent_ini = example.EXAMPLE_INI.replace("sqlite:///enterprise.db", enterprise_url).replace(
        "change-me", "k").replace("tcp:8090", "tcp:0")
    return cfg, agent_ini


@pytest_twisted.inlineCallbacks
def test_gateway_and_agent_services_sync_over_their_endpoints(tmp_path):
    cfg, agent_ini = two_sides(tmp_path)
    gateway = build_gateway(cfg, reactor)
    agent = AgentService(parse_agent(agent_ini), reactor)
    gateway.startService()
    agent.startService()
    try:
        web_port = yield gateway.when_web_listening()
        agent.client.base_url = f"http://127.0.0.1:{web_port.getHost().port}/sync/DEMO"
        with agent.engine.begin() as conn:
            conn.execute(example.goods.insert().values(goods_code="AG1", goods_name="代理商品",
                                                       price=5))
        yield agent.peer.cycle("full")
        with gateway.engine.connect() as conn:
            from sqlalchemy import select
            from erpcore.items import Item
            assert conn.scalar(select(Item.name).where(Item.sku == "AG1")) == "代理商品"
        assert agent.peer.peer_up
    finally:
        yield agent.stopService()
        yield gateway.stopService()


@pytest.mark.parametrize("text, message", [
    ("[agent]\ndatabase = sqlite://\n", "needs enterprise, gateway_url, secret"),
    (example.EXAMPLE_INI.replace("rule = enterprise_wins", "rule = loudest_wins", 1),
     "rule 'loudest_wins'"),
    (example.EXAMPLE_INI.replace("[table:stock]", "[table:orders]"), "synced tables are"),
    (example.EXAMPLE_INI.replace("site=store_code", "site"), "is not field=column"),
    (example.EXAMPLE_INI.replace("name=goods_name,", "nmae=goods_name,"),
     "map names nmae, not fields of items"),
    (example.EXAMPLE_INI.replace("key_fields = sku, name, unit_price", "key_fields = sku, qty"),
     "key_fields qty are not fields of items"),
    (example.EXAMPLE_INI.replace("key_fields = sku, site", "keys = sku, site"),
     r"\[table:stock\]: unknown option keys"),
    (example.EXAMPLE_INI.replace("heartbeat_interval = 30", "heartbeat_interval = 0"),
     "heartbeat_interval must be at least"),
])
def test_a_bad_agent_ini_is_explained(text, message):
    with pytest.raises(SettingsError, match=message):
        parse_agent(text)


def test_the_example_files_parse_and_name_the_key_fields_each_fast_scan_watches():
    from sync.agent import EXAMPLE_PEERS

    agent = parse_agent(example.EXAMPLE_INI)
    assert {t.name: t.spec().key_fields for t in agent.tables} == {
        "items": ("sku", "name", "unit_price"), "stock": ("sku", "site", "quantity")}
    _, [peer] = parse_peers(EXAMPLE_PEERS)
    assert peer.spec("items").key_fields == ("sku", "name", "unit_price")
    _, [other] = parse_peers("[enterprise:E2]\nsecret = s\nagent_url = http://a/sync\n"
                             "items_key_fields = sku, brand\n")
    assert other.spec("items").key_fields == ("sku", "brand")
    assert other.spec("stock").key_fields == ("sku", "site", "quantity")  # the default


def test_a_peers_file_needs_a_secret_and_an_agent_url():
    with pytest.raises(SettingsError, match="needs secret and agent_url"):
        parse_peers("[enterprise:DEMO]\nsecret = x\n")
    with pytest.raises(SettingsError, match="unknown section"):
        parse_peers("[DEMO]\n")


def test_a_peers_file_names_the_ca_file_trusted_for_an_agent():
    _, peers = parse_peers("[enterprise:DEMO]\nsecret = x\nagent_url = https://agent/sync\n"
                           "ca_file = /etc/merp/agent.pem\n")
    assert peers[0].ca_file == "/etc/merp/agent.pem"


@pytest_twisted.inlineCallbacks
def test_replays_are_refused_across_a_restart_of_either_daemon(tmp_path):
    """The gateway and the agent, each stopped and started again on its own database:
    a signed request captured before the restart is refused after it."""
    from sync import wire
    from sync.signing import sign
    from tests.sync.test_sync_signing import _raw_post

    cfg, agent_text = two_sides(tmp_path)
    agent_ini = parse_agent(agent_text)
    body = wire.encode({"op": "heartbeat"})
    captured = {"/sync/DEMO/command": sign(b"k", b"/sync/DEMO/command", body),
                "/sync/command": sign(b"k", b"/sync/command", body)}
    codes = []
    for _ in range(2):  # start, send (or replay), stop; twice
        gateway, agent = build_gateway(cfg, reactor), AgentService(agent_ini, reactor)
        gateway.startService()
        agent.startService()
        try:
            for path, service in (("/sync/DEMO/command", gateway), ("/sync/command", agent)):
                port = yield (service.when_web_listening() if service is gateway
                              else service.when_listening())
                url = f"http://127.0.0.1:{port.getHost().port}{path}"
                codes.append((yield _raw_post(url, captured[path], body))[0])
        finally:
            yield agent.stopService()
            yield gateway.stopService()
    assert codes == [200, 200, 401, 401]


def test_the_example_enterprise_database_is_made_once_and_never_over_existing_tables(
        tmp_path, capsys):
    from sqlalchemy import create_engine, func, select

    from gateway.cli import main

    url = f"sqlite:///{tmp_path / 'enterprise.db'}"
    assert main(["agent", "--example-db", url]) == 0
    assert main(["agent", "--example-db", url]) == 1
    assert "already has goods or inventory; nothing changed" in capsys.readouterr().err
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(example.goods)) == 5
        assert conn.scalar(select(func.count()).select_from(example.inventory)) == 13
    engine.dispose()
    assert parse_agent(example.EXAMPLE_INI.replace("sqlite:///enterprise.db", url)).tables
