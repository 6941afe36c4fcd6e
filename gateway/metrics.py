"""`/metrics` in the Prometheus text format, read from the running services' own counters
at scrape time (nothing on the message path pays for it)."""
from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import CollectorRegistry
from prometheus_client.twisted import MetricsResource

# (metric name, help, object attribute path on the pipeline, attribute)
_COUNTERS = (
    ("merp_mo_stored", "MOs stored in the inbox", "writer", "stored"),
    ("merp_mo_duplicates", "MOs the SMS centre delivered again, deduplicated", "writer", "duplicates"),
    ("merp_mo_parts", "long-MO parts stored", "writer", "parts"),
    ("merp_receipts", "delivery receipts received", "writer", "receipts"),
    ("merp_receipts_matched", "delivery receipts matched to a sent message", "writer", "receipts_matched"),
    ("merp_commands_handled", "MOs answered by a command", "dispatcher", "handled"),
    ("merp_command_errors", "commands that raised and were answered 'busy'", "dispatcher", "command_errors"),
    ("merp_mt_submitted", "MT parts accepted by the SMS centre", "sender", "submitted"),
    ("merp_mt_retried", "MT submits retried after a transient error", "sender", "retried"),
    ("merp_mt_failed", "MT parts given up as failed", "sender", "failed"),
    ("merp_db_calls", "units of work run on the database threads", "worker", "calls"),
    ("merp_db_failures", "units of work that failed", "worker", "failures"),
)


class GatewayCollector:
    def __init__(self, gateway):
        self.gateway = gateway

    def collect(self):
        pipeline = self.gateway.pipeline
        for name, help_text, part, attribute in _COUNTERS:
            value = getattr(getattr(pipeline, part, None), attribute, None)
            if value is not None:
                family = CounterMetricFamily(name, help_text)
                family.add_metric([], value)
                yield family
        bound = GaugeMetricFamily("merp_link_bound", "1 while the link is bound", labels=["link"])
        window = GaugeMetricFamily("merp_link_window_free", "free window slots", labels=["link"])
        for link in self.gateway.links:
            bound.add_metric([link.name], 1 if link.bound else 0)
            window.add_metric([link.name], link.capacity())
        yield bound
        yield window
        yield from sync_families(getattr(self.gateway, "sync", None))


# (metric name, help, SyncPeer.stats key) per enterprise the cluster syncs with
_SYNC_COUNTERS = (
    ("merp_sync_cycles", "sync cycles run (scan and push)", "cycles"),
    ("merp_sync_cycles_skipped", "sync cycles skipped (peer down or a cycle running)", "skipped"),
    ("merp_sync_rows_sent", "rows sent to the enterprise agent", "rows_sent"),
    ("merp_sync_rows_received", "rows received from the enterprise agent", "rows_received"),
    ("merp_sync_conflicts", "rows changed on both sides", "conflicts"),
    ("merp_sync_errors", "rows the peer refused", "errors"),
    ("merp_sync_failures", "requests to the agent that failed", "failures"),
    ("merp_sync_heartbeats", "heartbeats sent", "heartbeats"),
)


def sync_families(sync):
    """Per-enterprise sync counters, lag and peer state (nothing when sync is off)."""
    peers = getattr(sync, "peers", None) or {}
    if not peers:
        return
    for name, help_text, key in _SYNC_COUNTERS:
        family = CounterMetricFamily(name, help_text, labels=["enterprise"])
        for code, peer in sorted(peers.items()):
            family.add_metric([code], peer.stats.get(key, 0))
        yield family
    lag = GaugeMetricFamily("merp_sync_lag_seconds", "age of the oldest unsent change",
                            labels=["enterprise"])
    up = GaugeMetricFamily("merp_sync_peer_up", "1 while the enterprise agent answers",
                           labels=["enterprise"])
    for code, peer in sorted(peers.items()):
        lag.add_metric([code], peer.stats.get("lag_seconds", 0.0))
        up.add_metric([code], 1 if peer.peer_up else 0)
    yield lag
    yield up
    yield from sync_alarm_families(peers)


def sync_alarm_families(peers):
    """Per enterprise and kind: alarms raised and cleared so far, and which are active."""
    from sync.alarms import KINDS

    raised = CounterMetricFamily("merp_sync_alarms_raised", "sync alarms raised",
                                 labels=["enterprise", "kind"])
    cleared = CounterMetricFamily("merp_sync_alarms_cleared", "sync alarms cleared (all-clear)",
                                  labels=["enterprise", "kind"])
    active = GaugeMetricFamily("merp_sync_alarm_active", "1 while the sync alarm is raised",
                               labels=["enterprise", "kind"])
    for code, peer in sorted(peers.items()):
        alarms = getattr(peer, "alarms", None)
        if alarms is None:
            continue
        for kind in KINDS:
            raised.add_metric([code, kind], alarms.counts.get("raised:" + kind, 0))
            cleared.add_metric([code, kind], alarms.counts.get("cleared:" + kind, 0))
            active.add_metric([code, kind], 1 if kind in alarms.active else 0)
    yield raised
    yield cleared
    yield active


def metrics_resource(gateway):
    registry = CollectorRegistry()
    registry.register(GatewayCollector(gateway))
    return MetricsResource(registry=registry)
