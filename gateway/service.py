"""Wiring lives here, and only here: one function turns a Config into the gateway's
MultiService (store, pipeline, links to SMS centres)."""
from __future__ import annotations

from twisted.application.service import MultiService
from twisted.internet.endpoints import clientFromString

from erpcore import db
from gateway.config import Config, LinkSection
from gateway.pipeline.service import PipelineService, PipelineSettings
from gateway.smpp.link import LinkSettings, SmppLink


def link_settings(section: LinkSection) -> LinkSettings:
    """The SMPP link's own settings, taken by name from its config section."""
    names = LinkSettings.__dataclass_fields__.keys()
    return LinkSettings(**{n: getattr(section, n) for n in names if hasattr(section, n)})


def pipeline_settings(config: Config) -> PipelineSettings:
    return PipelineSettings(
        service_code=config.gateway.service_code,
        db_threads=config.db_threads,
        part_timeout=config.inbox.part_timeout,
        inbox_batch=config.inbox.batch,
        inbox_lease=config.inbox.lease,
        max_attempts=config.outbox.max_attempts,
        retry_initial=config.outbox.retry_initial,
        retry_max=config.outbox.retry_max,
        outbox_lease=config.outbox.lease,
        outbox_batch=config.outbox.batch,
        poll_interval=config.outbox.poll_interval,
    )


class GatewayService(MultiService):
    """The running gateway; `pipeline` and `links` are exposed for tests and metrics."""

    def __init__(self, config: Config, reactor):
        super().__init__()
        self.config = config
        self.engine = db.make_engine(config.gateway.database)
        sessions = db.make_sessionmaker(self.engine)
        self.pipeline = PipelineService(
            sessions, pipeline_settings(config), reactor=reactor
        )
        self.pipeline.setServiceParent(self)
        self.links = []
        for name, section in config.links.items():
            endpoint = clientFromString(reactor, section.endpoint)
            link = SmppLink(
                name, endpoint, link_settings(section), self.pipeline.inbound_handler,
                clock=reactor,
            )
            self.pipeline.add_link(link)
            link.setServiceParent(self)
            self.links.append(link)

    def stopService(self):
        d = super().stopService()
        d.addBoth(lambda result: (self.engine.dispose(), result)[1])
        return d


def build_gateway(config: Config, reactor) -> GatewayService:
    return GatewayService(config, reactor)
