"""The sync bookkeeping tables, the same on both sides: the mirror of the peer's copy, the
conflict log, the receiver's memory of applied chunks (what makes batches idempotent), and
the nonces of signed requests taken inside the replay window.

On the cluster they come with migrations 0006_sync and 0009_sync_scan; the agent creates
them in the enterprise's database itself (`create_tables`), next to the enterprise's own
tables.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base

# Sync flags of a mirror row.
DIRTY = "dirty"          # local change found by a scan, not yet sent
SENT = "sent"            # in a batch whose result has not come back
CONFIRMED = "confirmed"  # the peer has it
CONFLICT = "conflict"    # waits for a person (rule "manual")


class MirrorRow(Base):
    """The peer's copy of one row as last agreed, and where our own change of it stands."""

    __tablename__ = "sync_mirror"
    __table_args__ = (
        UniqueConstraint("scope", "table_name", "pk"),
        Index("ix_sync_mirror_flag", "scope", "table_name", "flag"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(64))
    pk: Mapped[str] = mapped_column(String(191))
    row_hash: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    tombstone: Mapped[bool] = mapped_column(Boolean, default=False)
    flag: Mapped[str] = mapped_column(String(12))
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(Integer)
    sent_hash: Mapped[str | None] = mapped_column(String(32))
    changed_ms: Mapped[int] = mapped_column(BigInteger, default=0)  # when the change was seen
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ConflictRecord(Base):
    """A row both sides changed: the rule's decision and the losing version, never dropped."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_state", "scope", "state"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(64))
    pk: Mapped[str] = mapped_column(String(191))
    rule: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(12))  # resolved | open
    winner: Mapped[str | None] = mapped_column(String(12))  # cluster | enterprise
    cluster_data: Mapped[str] = mapped_column(Text)  # JSON; null for a delete
    enterprise_data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)


class AppliedChunk(Base):
    """A data chunk this side applied, with its per-row results: a repeated chunk is
    answered from here and changes nothing."""

    __tablename__ = "sync_chunks"
    __table_args__ = (UniqueConstraint("scope", "batch_id", "seq"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    results: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SeenNonce(Base):
    """The nonce of a signed request this side took; kept while its timestamp is inside
    the replay window, so the same request is refused even after a restart."""

    __tablename__ = "sync_nonces"
    __table_args__ = (UniqueConstraint("scope", "nonce"),
                      Index("ix_sync_nonces_stamp", "scope", "stamp"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    stamp: Mapped[int] = mapped_column(BigInteger)  # the request's timestamp (Unix seconds)


TABLES = (MirrorRow.__table__, ConflictRecord.__table__, AppliedChunk.__table__,
          SeenNonce.__table__)


def create_tables(connection: Connection) -> None:
    """Create the sync tables where they are missing (the agent's side)."""
    Base.metadata.create_all(connection, tables=list(TABLES))
