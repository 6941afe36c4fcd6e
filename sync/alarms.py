"""Sync alarms: raised once when a condition starts (peer down after repeated failures,
growing lag, conflicts, rows the peer refused), cleared once with an all-clear.

Each change goes to the log, to a counter, and to a sink; on the cluster the sink sends an
SMS to the enterprise's administrators (`cluster_sink`).
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)

PEER_DOWN, LAG, CONFLICT, ERRORS = "peer_down", "lag", "conflict", "errors"

Sink = Callable[[str, str, bool], None]  # (kind, message, active)


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
            try:
                self.sink(kind, message, active)
            except Exception:  # noqa: BLE001 - an alarm channel failing must not stop sync
                log.exception("sync %s: alarm sink failed", self.scope)


def cluster_sink(sessionmaker, enterprise_id: int) -> Sink:
    """An SMS (erpcore notification) to every administrator of the enterprise."""
    from sqlalchemy import select

    from erpcore import db
    from erpcore.events import Notification
    from erpcore.notifications import notify
    from erpcore.users import User

    sequence = Counter()

    def sink(kind: str, message: str, active: bool) -> None:
        sequence[kind] += 1
        head_zh = "同步告警" if active else "同步恢复"
        head_en = "Sync alarm" if active else "Sync all-clear"
        with db.session_scope(sessionmaker) as session:
            admins = session.scalars(select(User).where(User.enterprise_id == enterprise_id,
                                                        User.role == "admin")).all()
            for user in admins:
                if not user.msisdn:
                    continue
                notify(session, Notification(
                    enterprise_id=enterprise_id, user_id=user.id, msisdn=user.msisdn,
                    text_zh=f"{head_zh}: {message}", text_en=f"{head_en}: {message}",
                    urgent=active,
                    key=f"sync:{enterprise_id}:{kind}:{int(active)}:{int(time.time())}:"
                        f"{sequence[kind]}:{user.id}"))
    return sink
