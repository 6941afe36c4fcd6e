"""Stored notifications: SMS that business modules want sent (alerts, task assignments).

Kept apart from the outbox so that erpcore needs no knowledge of links and encodings: the
gateway claims ``pending`` rows, turns them into outbox rows and marks them ``queued``.
A key makes a notification idempotent: the same key is stored once. Non-urgent ones wait
while their enterprise is in its quiet hours (``held_now``, erpcore.quiet_hours).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, false, insert, or_, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import deferred
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import InvalidInput
from erpcore.events import Notification
from erpcore.quiet_hours import QuietHours
from erpcore.users import InvalidMsisdn, normalize_msisdn

STATES = ("pending", "queued")
MAX_KEY = 128


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class InvalidNotification(InvalidInput):
    code = "notification.invalid"


class StoredNotification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_state_id", "state", "id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    msisdn: Mapped[str] = mapped_column(String(24))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    key: Mapped[str | None] = mapped_column(String(MAX_KEY), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"<StoredNotification {self.id} to {self.msisdn} {self.state}>"


def notify(
    session: Session, notification: Notification, now: Callable[[], datetime] = utcnow
) -> StoredNotification | None:
    """Store ``notification`` as pending; None when its key was stored before. The row
    comes back as a plain record (not attached to the session): one Core INSERT, without
    the unit of work's bookkeeping for a row nobody changes afterwards.

    While the session is deferring (erpcore.deferred: the dispatcher's batch) the row is
    queued instead and written with the batch's others in one statement that skips keys
    stored before; the record then has no id yet, and None means only that this session
    queued the key already (a key stored earlier is skipped when the queue is written)."""
    values = _values(notification, now)
    key = values["key"]
    if deferred.is_deferring(session):
        if not deferred.add(session, _SINK, values, unique=None if key is None else ("key", key)):
            return None
        _count_stored(session)
        return StoredNotification(id=None, **values)
    deferred.flush(session)  # a key queued before is stored first, as it came first
    # The key's unique index is the check (keys are rarely seen twice, so no SELECT asks
    # first): a key stored before, by this transaction, a committed one or a concurrent
    # writer first, stores nothing.
    if key is None:
        row_id = session.execute(_INSERT, values).inserted_primary_key[0]
    elif session.get_bind().dialect.name == "sqlite":
        result = session.execute(_INSERT_NEW_KEY, values)
        if not result.rowcount:
            return None
        row_id = result.inserted_primary_key[0]
    else:
        try:
            with session.begin_nested():
                row_id = session.execute(_INSERT, values).inserted_primary_key[0]
        except IntegrityError:
            return None
    _count_stored(session)
    return StoredNotification(id=row_id, **values)


def _values(notification: Notification, now: Callable[[], datetime]) -> dict:
    """The row to store, or InvalidNotification."""
    try:
        msisdn = normalize_msisdn(notification.msisdn)
    except InvalidMsisdn as exc:
        raise InvalidNotification(f"bad msisdn {notification.msisdn!r}") from exc
    if not msisdn or not (notification.text_zh or notification.text_en):
        raise InvalidNotification("a notification needs a number and a text")
    key = notification.key
    if key is not None and len(key) > MAX_KEY:
        raise InvalidNotification("notification key too long")
    return {
        "enterprise_id": notification.enterprise_id, "user_id": notification.user_id, "msisdn": msisdn,
        "text_zh": notification.text_zh or notification.text_en,
        "text_en": notification.text_en or notification.text_zh,
        "urgent": notification.urgent, "key": key, "state": "pending", "created_at": now(),
    }


def _count_stored(session: Session) -> None:
    session.info[_STORED] = session.info.get(_STORED, 0) + 1


def _write_queued(session: Session, rows: list[dict]) -> None:
    """The queued rows in one statement; a key stored before (committed, or by a
    concurrent writer) stores nothing and hides no other error (no INSERT IGNORE)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(_INSERT_NEW_KEY, rows)
    else:
        session.execute(_INSERT_NEW_KEY_MYSQL, rows)


_TABLE = StoredNotification.__table__
_INSERT = insert(_TABLE)
_INSERT_NEW_KEY = sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=[_TABLE.c.key])
# id = id: a duplicate key changes nothing (the unique key is the only one a new row can hit).
_INSERT_NEW_KEY_MYSQL = mysql_insert(_TABLE).on_duplicate_key_update(id=_TABLE.c.id)
_STORED = "erpcore.notifications.stored"
_SINK = deferred.Sink("notifications", _write_queued)


def stored_count(session: Session) -> int:
    """How many notifications ``notify`` stored through this session so far (some may
    since have been rolled back; a queued one counts, even if its key turns out to be
    stored already): a caller compares it before and after some work to learn whether
    there may be anything new to send."""
    return session.info.get(_STORED, 0)


@dataclass(frozen=True)
class Held:
    """Whose non-urgent notifications wait at one instant (quiet hours): every enterprise
    but ``except_ids`` when ``default_quiet``, else only ``except_ids``."""

    default_quiet: bool = False
    except_ids: frozenset[int] = frozenset()

    def holds(self, enterprise_id: int) -> bool:
        return self.default_quiet != (enterprise_id in self.except_ids)


NOTHING_HELD = Held()


def held_now(
    session: Session | None, default: QuietHours, utc_now: datetime,
    own: Mapping[int, QuietHours] | None = None,
) -> Held:
    """Which enterprises are in their quiet hours at ``utc_now``: the default window for
    most, their own for the rest (``own``: erpcore.tenants.own_quiet_hours, read from
    ``session`` when not given)."""
    if own is None:
        from erpcore.tenants import own_quiet_hours

        own = own_quiet_hours(session, default)
    default_quiet = default.active(utc_now)
    return Held(default_quiet, frozenset(eid for eid, window in own.items()
                                         if window.active(utc_now) != default_quiet))


def pending(session: Session, limit: int = 100, held: Held = NOTHING_HELD) -> list[StoredNotification]:
    """Pending notifications, urgent ones first, then oldest first (for the gateway).

    Non-urgent ones of the enterprises ``held`` names are left out of the query itself
    (not filtered after it), so one enterprise's quiet night never fills the batch and
    starves another's daytime notifications; they are still pending when the window
    ends. On MySQL/MariaDB the rows are locked SKIP LOCKED, so several gateway processes
    can take them without sending one twice."""
    from erpcore.inbox import skip_locked

    deferred.flush(session)
    statement = select(StoredNotification).where(StoredNotification.state == "pending")
    if held.default_quiet or held.except_ids:
        ids = sorted(held.except_ids)
        if not held.default_quiet:  # only the listed enterprises are quiet
            sendable = StoredNotification.enterprise_id.not_in(ids)
        elif ids:  # everyone is quiet but the listed enterprises
            sendable = StoredNotification.enterprise_id.in_(ids)
        else:
            sendable = false()
        statement = statement.where(or_(StoredNotification.urgent.is_(True), sendable))
    statement = statement.order_by(StoredNotification.urgent.desc(), StoredNotification.id).limit(limit)
    if skip_locked(session):
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def mark_queued(session: Session, ids: list[int]) -> int:
    """Mark notifications handed to the outbox; returns how many changed."""
    if not ids:
        return 0
    deferred.flush(session)
    return session.execute(
        update(StoredNotification)
        .where(StoredNotification.id.in_(ids), StoredNotification.state == "pending")
        .values(state="queued")
    ).rowcount


def for_user(session: Session, enterprise_id: int, user_id: int) -> list[StoredNotification]:
    """Everything stored for one user of this enterprise, oldest first."""
    deferred.flush(session)
    return list(session.scalars(
        select(StoredNotification)
        .where(StoredNotification.enterprise_id == enterprise_id, StoredNotification.user_id == user_id)
        .order_by(StoredNotification.id)
    ))
