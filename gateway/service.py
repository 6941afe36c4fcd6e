"""Wiring lives here, and only here: one function turns a Config into the gateway's
MultiService (store, pipeline, links to SMS centres)."""
from __future__ import annotations

import functools
import secrets

from twisted.application.service import MultiService
from twisted.internet.endpoints import clientFromString

from erpcore import db
from gateway.config import Config, LinkSection
from gateway.pipeline.service import PipelineService, PipelineSettings
from gateway.cmpp.link import CmppLink, CmppLinkSettings
from gateway.cmpp.pdu import Version
from gateway.smpp.link import LinkSettings, SmppLink
from sync.listening import ListeningService


def link_settings(section: LinkSection) -> LinkSettings:
    """The SMPP link's own settings, taken by name from its config section."""
    names = LinkSettings.__dataclass_fields__.keys()
    return LinkSettings(**{n: getattr(section, n) for n in names if hasattr(section, n)})


def cmpp_link_settings(section: LinkSection) -> CmppLinkSettings:
    """The CMPP link's settings from its config section (protocol cmpp2 or cmpp3)."""
    return CmppLinkSettings(
        version=Version.V20 if section.protocol == "cmpp2" else Version.V30,
        sp_id=section.sp_id, shared_secret=section.shared_secret,
        service_id=section.service_id, src_id=section.src_id, window=section.cmpp_window,
        rate=section.rate, active_test_interval=section.active_test_interval,
        response_timeout=section.cmpp_response_timeout, retries=section.cmpp_retries,
        flow_control_backoff=section.flow_control_backoff,
        reconnect_initial=section.reconnect_initial, reconnect_max=section.reconnect_max,
    )


def build_link(name: str, section: LinkSection, handler, reactor):
    """An SmppLink or a CmppLink: the pipeline drives both the same way."""
    endpoint = clientFromString(reactor, section.endpoint)
    if section.protocol.startswith("cmpp"):
        return CmppLink(name, endpoint, cmpp_link_settings(section), handler, clock=reactor)
    return SmppLink(name, endpoint, link_settings(section), handler, clock=reactor)


def pipeline_settings(config: Config) -> PipelineSettings:
    return PipelineSettings(
        service_code=config.gateway.service_code,
        db_threads=config.db_threads,
        part_timeout=config.inbox.part_timeout,
        inbox_batch=config.inbox.batch,
        inbox_lease=config.inbox.lease,
        in_flight=1 if config.db_threads <= 1 else config.inbox.in_flight,
        max_attempts=config.outbox.max_attempts,
        retry_initial=config.outbox.retry_initial,
        retry_max=config.outbox.retry_max,
        outbox_lease=config.outbox.lease,
        outbox_batch=config.outbox.batch,
        poll_interval=config.outbox.poll_interval,
        link_service_codes=tuple(
            (name, tuple(code.strip() for code in section.service_codes.split(",") if code.strip()))
            for name, section in config.links.items() if section.service_codes.strip()
        ),
        notify_interval=config.notify.interval,
        notify_batch=config.notify.batch,
        quiet_start=config.notify.quiet_start,
        quiet_end=config.notify.quiet_end,
        utc_offset_hours=config.notify.utc_offset_hours,
    )


def command_handler(config: Config, many: bool = False):
    """commands.handle with the deployment's command options (``many``: handle_many, the
    same for a whole batch)."""
    import functools
    from decimal import Decimal

    import commands

    pin_above = config.commands.approval_pin_above
    options = commands.Options(pin_above=Decimal(str(pin_above)) if pin_above > 0 else None,
                               utc_offset_hours=config.notify.utc_offset_hours)
    return functools.partial(commands.handle_many if many else commands.handle, options=options)


class GatewayService(MultiService):
    """The running gateway; `pipeline` and `links` are exposed for tests and metrics."""

    def __init__(self, config: Config, reactor):
        super().__init__()
        self.config = config
        self.engine = db.make_engine(config.gateway.database)
        sessions = db.make_sessionmaker(self.engine)
        # One secret signs the approval links the SMS side sends and the WAP pages check.
        self.wap_secret = config.web.wap_secret.encode("utf-8") or secrets.token_bytes(32)
        from commands.senders import prepare

        self.pipeline = PipelineService(
            sessions, pipeline_settings(config), reactor=reactor, handle=command_handler(config),
            handle_many=command_handler(config, many=True),
            approval_link=self._approval_link_maker(config), prepare=prepare,
        )
        self.pipeline.setServiceParent(self)
        self.links = []
        for name, section in config.links.items():
            link = build_link(name, section, self.pipeline.inbound_handler, reactor)
            self.pipeline.add_link(link)
            link.setServiceParent(self)
            self.links.append(link)
        self.sync = None
        if config.sync.peers:
            from sync.cluster import ClusterSync

            self.sync = ClusterSync(config.sync.peers, self.engine, sessions, reactor,
                                    config.sync.threads)
            self.sync.setServiceParent(self)
        self.web = None
        if config.web.listen:
            self._add_web(config, sessions, reactor)

    def _approval_link_maker(self, config: Config):
        """Approval SMS carry a signed link to the document's WAP page when pages are served."""
        if not (config.web.listen and config.web.wap):
            return None
        from gateway.web.wap.links import approval_link

        return functools.partial(
            approval_link, secret=self.wap_secret, base_url=config.web.public_url,
            ttl=3600 * config.web.wap_link_hours,
        )

    def _add_web(self, config: Config, sessions, reactor) -> None:
        from twisted.internet.endpoints import serverFromString

        from gateway.web.site import ThreadPoolService, build_site

        pool = ThreadPoolService(config.web.threads, "merp-web")
        pool.setServiceParent(self)
        site = build_site(self, sessions, config.web, reactor, pool.pool, wap_secret=self.wap_secret)
        self.web = ListeningService(serverFromString(reactor, config.web.listen), site)
        self.web.setServiceParent(self)

    def when_web_listening(self):
        """Fires with the web server's listening port (useful with an ephemeral `tcp:0`)."""
        return self.web.when_listening()

    def stopService(self):
        d = super().stopService()
        d.addBoth(lambda result: (self.engine.dispose(), result)[1])
        return d


def build_gateway(config: Config, reactor) -> GatewayService:
    return GatewayService(config, reactor)
