"""`PipelineService`: the db worker, inbox writer, dispatcher and outbox sender, wired.

The links are built elsewhere (gateway.service) with `inbound_handler` as their handler
and registered with `add_link`. The db worker is the first child, so it starts first and
stops last, after the others have stopped asking it for work.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.application.service import MultiService

from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.dispatcher import Dispatcher
from gateway.pipeline.inbox_writer import InboxWriter
from gateway.pipeline.notifier import Notifier, QuietHours
from gateway.pipeline.routing import Router
from gateway.pipeline.outbox_sender import OutboxSender


@dataclass(frozen=True)
class PipelineSettings:
    """Tunables; the defaults match gateway.config (seconds for every duration)."""

    service_code: str = "1065712345"
    db_threads: int = 1
    part_timeout: float = 300.0
    inbox_batch: int = 200
    inbox_lease: float = 60.0
    in_flight: int = 1  # dispatcher batches and inbox writes in flight at once (one each thread)
    max_attempts: int = 8
    retry_initial: float = 1.0
    retry_max: float = 300.0
    outbox_lease: float = 60.0
    outbox_batch: int = 200
    poll_interval: float = 1.0
    command_attempts: int = 5  # claims of one MO before it is answered "busy" unrun
    housekeeping_interval: float = 30.0
    seen_part_retention: float = 86400.0
    orphan_retention: float = 86400.0
    notify_interval: float = 5.0
    notify_batch: int = 200
    quiet_start: str = "22:00"  # enterprise local time; equal start and end = no quiet hours
    quiet_end: str = "08:00"
    utc_offset_hours: float = 8.0
    link_service_codes: tuple = ()  # ((link name, (code, ...)), ...): per-link routing


class PipelineService(MultiService):
    """The durable message path; `inbound_handler` is what the links call."""

    def __init__(
        self,
        sessions,
        settings: PipelineSettings | None = None,
        reactor=None,
        clock=None,
        links: Sequence = (),
        handle: Callable | None = None,
        handle_many: Callable | None = None,
        split: Callable | None = None,
        pool=None,
        approval_link: Callable | None = None,
        prepare: Callable | None = None,
    ):
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        clock = clock if clock is not None else reactor
        s = settings or PipelineSettings()
        self.settings = s
        self.worker = DbWorker(sessions, reactor, s.db_threads, pool)
        self.router = Router(s.service_code, dict(s.link_service_codes))
        self.sender = OutboxSender(
            self.worker, clock, links, batch=s.outbox_batch, lease=s.outbox_lease,
            max_attempts=s.max_attempts, retry_initial=s.retry_initial,
            retry_max=s.retry_max, poll_interval=s.poll_interval,
            housekeeping_interval=s.housekeeping_interval,
            orphan_retention=s.orphan_retention, router=self.router,
        )
        self.dispatcher = Dispatcher(
            self.worker, clock, s.service_code, handle=handle, handle_many=handle_many, split=split,
            batch=s.inbox_batch, lease=s.inbox_lease, max_attempts=s.command_attempts,
            part_timeout=s.part_timeout, seen_retention=s.seen_part_retention,
            poll_interval=s.poll_interval, on_queued=self.sender.wake, router=self.router,
            prepare=prepare, passes=s.in_flight,
            on_replies=self.sender.take, reply_lease=s.outbox_lease,
        )
        self.notifier = Notifier(
            self.worker, clock, s.service_code, split=split, batch=s.notify_batch,
            poll_interval=s.notify_interval,
            quiet=QuietHours.parse(s.quiet_start, s.quiet_end, s.utc_offset_hours),
            approval_link=approval_link, on_queued=self.sender.wake,
        )
        self.dispatcher.on_notified = self.notifier.wake
        self.writer = InboxWriter(self.worker, clock, on_stored=self.dispatcher.wake,
                                  concurrency=s.in_flight)
        self.inbound_handler = self.writer
        for child in (self.worker, self.dispatcher, self.sender, self.notifier):
            child.setServiceParent(self)

    def add_link(self, link) -> None:
        self.sender.add_link(link)
