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


def metrics_resource(gateway):
    registry = CollectorRegistry()
    registry.register(GatewayCollector(gateway))
    return MetricsResource(registry=registry)
