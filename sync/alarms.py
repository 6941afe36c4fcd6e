"""Sync alarms: raised once when a condition starts, cleared once with an all-clear.

Conditions: the peer does not answer our requests (PEER_DOWN, after repeated failures);
no authenticated request has come from the peer for a while (PEER_SILENT: its heartbeats
stop when it cannot reach us, or its requests are refused); changes waiting longer and
longer (LAG); rows the peer refused (ERRORS). Conflicts decided by a rule are one-off
events (CONFLICT).

Each change goes to the log, to counters (`counts`, on the gateway's /metrics) and to a
sink; on the cluster the sink stores an SMS to every administrator of the enterprise, which
the gateway's notifier hands to the outbox like any other notification (`cluster_sink`).
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from twisted.internet import defer

log = logging.getLogger(__name__)

PEER_DOWN, PEER_SILENT, LAG, CONFLICT, ERRORS = "peer_down", "peer_silent", "lag", "conflict", "errors"
KINDS = (PEER_DOWN, PEER_SILENT, LAG, CONFLICT, ERRORS)

LABELS = {  # kind -> (Chinese, English) label, for people reading the SMS
    PEER_DOWN: ("连不上对方", "peer down"), PEER_SILENT: ("对方无音讯", "peer silent"),
    LAG: ("同步积压", "lag"), CONFLICT: ("同步冲突", "conflicts"), ERRORS: ("对方拒收", "rows refused"),
}

Sink = Callable[[str, str, bool], object]  # (kind, message, active); may return a Deferred


class Alarms:
    def __init__(self, scope: str, sink: Sink | None = None):
        self.scope = scope
        self.sink = sink
        self.active: dict[str, str] = {}
        self.counts: Counter = Counter()  # raised:<kind>, cleared:<kind>
        self.history: list[tuple[str, str, bool]] = []

    def raise_(self, kind: str, message: str) -> bool:
        """Raise ``kind`` unless it is already raised; True when this call raised it."""
        if kind in self.active:
            return False
        self.active[kind] = message
        self._emit(kind, message, True)
        return True

    def event(self, kind: str, message: str) -> None:
        """A one-off alarm (e.g. conflicts decided): reported each time, never 'active'."""
        self._emit(kind, message, True)

    def clear(self, kind: str, message: str = "") -> bool:
        if kind not in self.active:
            return False
        del self.active[kind]
        self._emit(kind, message or f"{kind} cleared", False)
        return True

    def _emit(self, kind: str, message: str, active: bool) -> None:
        self.counts[("raised:" if active else "cleared:") + kind] += 1
        self.history.append((kind, message, active))
        (log.warning if active else log.info)(
            "sync %s: %s %s: %s", self.scope, "ALARM" if active else "all-clear", kind, message)
        if self.sink is not None:
            d = defer.maybeDeferred(self.sink, kind, message, active)
            d.addErrback(lambda f: log.error("sync %s: alarm sink failed: %s", self.scope,
                                             f.getTraceback()))  # must not stop sync


def notify_admins(sessionmaker, enterprise_id: int, kind: str, message: str, active: bool,
                  sequence: int) -> int:
    """Store the alarm (or all-clear) as an SMS to every administrator of the enterprise
    (primary or extra role) with a phone number; returns how many. Blocking."""
    from sqlalchemy import or_, select

    from erpcore import db
    from erpcore.events import Notification
    from erpcore.notifications import notify
    from erpcore.rbac import UserRole
    from erpcore.users import User

    label_zh, label_en = LABELS.get(kind, (kind, kind))
    head_zh = f"{'同步告警' if active else '同步恢复'}({label_zh})"
    head_en = f"{'Sync alarm' if active else 'Sync all-clear'} ({label_en})"
    extra_admins = select(UserRole.user_id).where(UserRole.enterprise_id == enterprise_id,
                                                  UserRole.role == "admin")
    with db.session_scope(sessionmaker) as session:
        admins = session.scalars(select(User).where(
            User.enterprise_id == enterprise_id, User.active.is_(True), User.msisdn.is_not(None),
            or_(User.role == "admin", User.id.in_(extra_admins))).order_by(User.id)).all()
        for user in admins:
            notify(session, Notification(
                enterprise_id=enterprise_id, user_id=user.id, msisdn=user.msisdn,
                text_zh=f"{head_zh}: {message}", text_en=f"{head_en}: {message}", urgent=active,
                key=f"sync:{enterprise_id}:{kind}:{int(active)}:{int(time.time())}:{sequence}:"
                    f"{user.id}"))
        return len(admins)


def cluster_sink(sessionmaker, enterprise_id: int, run) -> Sink:
    """The cluster's sink: `notify_admins` on a database thread (``run``)."""
    sequence = Counter()

    def sink(kind: str, message: str, active: bool):
        sequence[kind] += 1
        return run(notify_admins, sessionmaker, enterprise_id, kind, message, active,
                   sequence[kind])
    return sink
