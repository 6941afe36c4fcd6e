"""The gateway's /metrics shows each enterprise's sync counters, lag and peer state."""
from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from gateway.metrics import GatewayCollector


def _scrape(sync) -> str:
    gateway = SimpleNamespace(pipeline=None, links=[], sync=sync)
    registry = CollectorRegistry()
    registry.register(GatewayCollector(gateway))
    return generate_latest(registry).decode()


def test_sync_counters_appear_per_enterprise():
    stats = {"cycles": 7, "skipped": 1, "rows_sent": 120, "rows_received": 30, "conflicts": 2,
             "errors": 0, "failures": 3, "heartbeats": 9, "lag_seconds": 4.5}
    text = _scrape(SimpleNamespace(peers={"DEMO": SimpleNamespace(stats=stats, peer_up=True)}))
    assert 'merp_sync_rows_sent_total{enterprise="DEMO"} 120.0' in text
    assert 'merp_sync_conflicts_total{enterprise="DEMO"} 2.0' in text
    assert 'merp_sync_lag_seconds{enterprise="DEMO"} 4.5' in text
    assert 'merp_sync_peer_up{enterprise="DEMO"} 1.0' in text


def test_no_sync_metrics_when_sync_is_off():
    assert "merp_sync" not in _scrape(None)


def test_sync_alarms_appear_per_enterprise_and_kind_with_their_all_clear():
    from sync.alarms import LAG, PEER_DOWN, Alarms

    alarms = Alarms("DEMO")
    alarms.raise_(PEER_DOWN, "unreachable")
    alarms.clear(PEER_DOWN, "back")
    alarms.raise_(LAG, "slow")
    peer = SimpleNamespace(stats={}, peer_up=True, alarms=alarms)
    text = _scrape(SimpleNamespace(peers={"DEMO": peer}))
    assert 'merp_sync_alarms_raised_total{enterprise="DEMO",kind="peer_down"} 1.0' in text
    assert 'merp_sync_alarms_cleared_total{enterprise="DEMO",kind="peer_down"} 1.0' in text
    assert 'merp_sync_alarm_active{enterprise="DEMO",kind="peer_down"} 0.0' in text
    assert 'merp_sync_alarm_active{enterprise="DEMO",kind="lag"} 1.0' in text
    assert 'merp_sync_alarm_active{enterprise="DEMO",kind="peer_silent"} 0.0' in text
