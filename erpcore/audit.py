"""The audit trail: who changed what in which tenant, with the row before and after.

Every change-making service function calls `record` in its own transaction, so the trail
commits or rolls back with the change it describes. Snapshots are stored as JSON text
(Decimals and datetimes as strings) rather than a native JSON column, which SQLite and
MariaDB reflect differently.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from erpcore import deferred
from erpcore.base import MYSQL_TABLE_OPTIONS, Base


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"cannot store {type(value).__name__} in an audit snapshot")


class JsonText(TypeDecorator):
    """A dict stored as JSON text (Chinese kept readable, keys sorted for stable diffs)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


#: Replaced in tests that pin timestamps.
clock: Callable[[], datetime] = _utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_enterprise_id_entity_entity_id", "enterprise_id", "entity", "entity_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    # None: the operator or the system, not a user of the enterprise.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JsonText)
    after: Mapped[dict | None] = mapped_column(JsonText)
    at: Mapped[datetime] = mapped_column(DateTime, default=lambda: clock())

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.entity}:{self.entity_id}>"


def record(
    session: Session,
    enterprise_id: int,
    actor_user_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    before: dict | None,
    after: dict | None,
) -> AuditEntry:
    """Add one audit entry to the caller's transaction (flushed, not committed). Entries
    queued before it (erpcore.deferred) are written first: ids keep the order of calls."""
    deferred.flush(session)
    entry = AuditEntry(
        enterprise_id=enterprise_id,
        actor_user_id=actor_user_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=plain(before),
        after=plain(after),
        at=clock(),
    )
    session.add(entry)
    session.flush()
    return entry


class Trail:
    """The audit entries of one service call, written by ``write`` in one multi-row INSERT
    (``record`` flushes once per entry, a round trip a batch of orders cannot afford).
    Entries not written when the caller gives up are simply lost with the trail, so a
    trail written inside a savepoint goes with it."""

    def __init__(self, session: Session, enterprise_id: int):
        self.session, self.enterprise_id, self.rows = session, enterprise_id, []
        self.at = clock()  # one service call, one moment

    def add(self, actor_user_id: int | None, action: str, entity: str, entity_id: object,
            before: dict | None, after: dict | None) -> None:
        self.rows.append({
            "enterprise_id": self.enterprise_id, "actor_user_id": actor_user_id, "action": action,
            "entity": entity, "entity_id": str(entity_id), "before": before, "after": after,
            "at": self.at,
        })

    def take(self, other: Trail) -> None:
        """Add ``other``'s entries after these (written with them, at their own time)."""
        self.rows.extend(other.rows)
        other.rows = []

    def write(self) -> None:
        """Store the entries: at once, or queued while the session is deferring (the
        dispatcher's batch: erpcore.deferred writes a batch's entries in one statement)."""
        if not self.rows:
            return
        if deferred.is_deferring(self.session):
            for row in self.rows:
                deferred.add(self.session, _SINK, row)
        else:
            _write_rows(self.session, self.rows)
        self.rows = []


def _write_rows(session: Session, rows: list[dict]) -> None:
    # On the table: one executemany whatever the entries leave empty (the ORM's bulk
    # INSERT would group them by the columns they set, a statement per group).
    session.execute(insert(AuditEntry.__table__), rows)


_SINK = deferred.Sink("audit_log", _write_rows)


def plain(snapshot: dict | None) -> dict | None:
    """Round-trip through JSON now, so an unstorable value fails at the call site and the
    entry in memory equals what a later read returns."""
    if snapshot is None:
        return None
    return json.loads(json.dumps(snapshot, default=_json_default))


def history(
    session: Session, enterprise_id: int, entity: str, entity_id: object
) -> list[AuditEntry]:
    """The entries about one entity of this tenant, oldest first (queued ones too)."""
    deferred.flush(session)
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.enterprise_id == enterprise_id,
                AuditEntry.entity == entity,
                AuditEntry.entity_id == str(entity_id),
            )
            .order_by(AuditEntry.id)
        )
    )
