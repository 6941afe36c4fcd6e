"""Turns stored notifications (erpcore.notifications: alerts, approval requests, decisions,
task assignments) into outbox rows, so they travel the same no-loss path as replies.

In one db-thread transaction: claim pending rows (SKIP LOCKED where the backend has it,
so several gateway processes never send one twice), write each in its reader's language,
split it, enqueue the parts from the enterprise's number (service code + extension) and
mark the rows queued. Runs after every dispatcher batch (``wake``) and on a timer.

Quiet hours hold non-urgent notifications until they end; urgent ones (task assignments)
go at once. Each enterprise has its own window in its own local time (erpcore.tenants:
its settings, else ``[notify]``'s, which ``quiet`` carries; a changed setting applies
within SETTINGS_TTL), judged on every pass at the injected clock's time: one
enterprise's night holds only its own notifications. Approval requests carry a signed link to
the document's WAP page when an ``approval_link(enterprise_id, order_number)``
callable is given (the seam for gateway/web/wap).
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from twisted.python.failure import Failure

from commands.length import clip_keeping
from erpcore import notifications, orders, outbox, tenants
from erpcore.orders import Order
from erpcore.notifications import StoredNotification
from erpcore.quiet_hours import QuietHours
from erpcore.tenants import Enterprise
from erpcore.users import User, effective_lang
from gateway.pipeline.db_worker import DbWorker, clock_now
from gateway.pipeline.parts import ConcatRefs, default_split, outbox_parts
from gateway.pipeline.polling import PollingService
from gateway.web.wap.push import PushError, wap_push_si

log = logging.getLogger(__name__)

ApprovalLink = Callable[[int, str], "str | None"]
BINARY = "binary"  # outbox coding: the text is 8-bit user data in hex (gateway.smpp.convert)
#: How long the enterprises' own quiet-hour settings are trusted before reading them again.
SETTINGS_TTL = timedelta(seconds=30)
MAX_TEXT = 1000  # characters of a notification read; clip_keeping fits it into three SMS


def push_parts(user: User | None, row: StoredNotification, text: str, link: str | None,
               sender: str) -> list[outbox.OutboxPart]:
    """A WAP Push SI with the document link, for users whose handsets take one; the outbox
    carries it as coding "binary", its text the hex of the user data (UDH first)."""
    if not link or user is None or not user.push_capable:
        return []
    try:
        payload = wap_push_si(link, text)
    except PushError:
        log.warning("notification %s: its link is too long for a WAP Push", row.id)
        return []
    return [outbox.OutboxPart(sender=sender, recipient=row.msisdn, text=payload.hex(), coding=BINARY)]


#: Built once; each a batch's rows by id (expanding IN), chunked below.
_ENTERPRISES = select(Enterprise).where(Enterprise.id.in_(bindparam("ids", expanding=True)))
_USERS = select(User).where(User.id.in_(bindparam("ids", expanding=True)))
_ORDERS = select(Order).where(Order.id.in_(bindparam("ids", expanding=True)))
_CHUNK = 500


def _by_id(session, statement, ids) -> dict:
    """The rows with these ids, by id, in one query per _CHUNK ids."""
    wanted = sorted(ids)
    found = {}
    for start in range(0, len(wanted), _CHUNK):
        for row in session.scalars(statement, {"ids": wanted[start:start + _CHUNK]}):
            found[row.id] = row
    return found


class Readers:
    """What a batch of notifications needs to know about their readers, read for the whole
    batch at once (the enterprise and the user were two SELECTs per notification): the
    enterprises and users by id, and the orders approval requests link to, which stay in
    the session's identity map (held here) so `orders.order_by_id` finds them there."""

    def __init__(self, enterprises: dict, users: dict, orders: dict | None = None):
        self.enterprises = enterprises
        self.users = users
        self.orders = orders or {}

    @classmethod
    def read(cls, session, rows: list[StoredNotification], with_orders: bool) -> "Readers":
        orders = {}
        if with_orders:
            from commands.notices import parse_approval_key

            keys = (parse_approval_key(row.key) for row in rows)
            orders = _by_id(session, _ORDERS, {key[0] for key in keys if key is not None})
        return cls(_by_id(session, _ENTERPRISES, {row.enterprise_id for row in rows}),
                   _by_id(session, _USERS, {row.user_id for row in rows if row.user_id}), orders)


class Notifier(PollingService):
    name = "notifier"

    def __init__(
        self, worker: DbWorker, clock, service_code: str, *, split: Callable | None = None,
        batch: int = 200, poll_interval: float = 5.0, quiet: QuietHours | None = None,
        approval_link: ApprovalLink | None = None, on_queued: Callable[[], None] | None = None,
        rng: random.Random | None = None,
    ):
        self._worker = worker
        self._clock = clock
        self._service_code = service_code
        self._split = split or default_split()
        self._batch = batch
        self._poll_interval = poll_interval
        self.quiet = quiet if quiet is not None else QuietHours()  # the gateway's default
        self._own: tuple[datetime | None, dict | None] = (None, None)
        self.approval_link = approval_link
        self.on_queued = on_queued
        self._refs = ConcatRefs(rng)
        self._running = False
        self._again = False
        self.queued = 0  # notifications handed to the outbox (metric)

    def poll(self) -> None:
        self.wake()

    def wake(self) -> None:
        """Queue pending notifications now (coalesced: one pass in flight)."""
        if self._running:
            self._again = True
            return
        self._running, self._again = True, False
        d = self._worker.run(self.queue_batch, clock_now(self._clock))
        d.addBoth(self._pass_done)

    def _pass_done(self, result) -> None:
        self._running = False
        if isinstance(result, Failure):
            log.error("queueing notifications failed: %s", result.getErrorMessage())
            return
        if result and self.on_queued is not None:
            self.on_queued()
        if result >= self._batch or self._again:
            self.wake()

    # -- in the db thread ---------------------------------------------------------------

    def queue_batch(self, session, now: datetime) -> int:
        """Claim, enqueue and mark up to ``batch`` notifications; returns how many."""
        held = notifications.held_now(session, self.quiet, now, self._own_quiet_hours(session, now))
        rows = notifications.pending(session, self._batch, held=held)
        if not rows:
            return 0
        readers = Readers.read(session, rows, with_orders=self.approval_link is not None)
        parts: list[outbox.OutboxPart] = []
        for row in rows:
            parts.extend(self.parts_for(session, row, readers))
        outbox.enqueue(session, parts, now)
        notifications.mark_queued(session, [row.id for row in rows])
        self.queued += len(rows)
        return len(rows)

    def _own_quiet_hours(self, session, now: datetime) -> dict:
        """The enterprises' own quiet hours, read again at most every SETTINGS_TTL seconds
        (a pass runs after every dispatcher batch; settings change seldom). Whether each
        window is active is still judged on every pass, at ``now``."""
        read_at, own = self._own
        if own is None or not timedelta(0) <= now - read_at < SETTINGS_TTL:
            own = tenants.own_quiet_hours(session, self.quiet)
            self._own = (now, own)
        return own

    def parts_for(self, session, row: StoredNotification,
                  readers: Readers | None = None) -> list[outbox.OutboxPart]:
        if readers is None:  # one notification on its own
            readers = Readers.read(session, [row], with_orders=self.approval_link is not None)
        enterprise = readers.enterprises.get(row.enterprise_id)
        user = readers.users.get(row.user_id) if row.user_id else None
        lang = effective_lang(user, enterprise)
        text = (row.text_en if lang == "en" else row.text_zh)[:MAX_TEXT]
        link = self._link(session, row)
        sender = self._service_code + (enterprise.extension if enterprise else "")
        push = push_parts(user, row, text, link, sender)
        text = clip_keeping(text, f" {link}" if link else "")  # three SMS at most, the link whole
        return outbox_parts(text, sender, row.msisdn, self._split, self._refs,
                            fallback=text[:60], what=f"notification {row.id}") + push

    def _link(self, session, row: StoredNotification) -> str | None:
        """The signed WAP link of the document an approval request is about."""
        if self.approval_link is None:
            return None
        from commands.notices import parse_approval_key

        parsed = parse_approval_key(row.key)
        if parsed is None:
            return None
        order_id, _approver = parsed
        try:
            number = orders.order_by_id(session, row.enterprise_id, order_id).number
            return self.approval_link(row.enterprise_id, number)
        except Exception:  # a broken link must not hold the SMS back
            log.exception("approval link for notification %s failed", row.id)
            return None
