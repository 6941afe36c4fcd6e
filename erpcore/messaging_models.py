"""Tables of the durable message path: inbox, long-MO parts, outbox, business log.

They carry the no-loss rule (ARCHITECTURE.md, "Message path"): an MO is acknowledged only
once it is a row here, a reply exists only as an outbox row written in the same
transaction as the business change, and `command_log.inbox_id` is unique so that
"each MO has exactly one business effect" is enforced by the database and checkable.

Sizes are chosen for MariaDB with utf8mb4 (4 bytes a character): every index stays far
below InnoDB's 3072-byte key limit, and long texts use MEDIUMTEXT there.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.base import Base

# Lengths shared with the migration and with the store's input clipping.
LINK_LEN = 64
ADDRESS_LEN = 64  # SMPP addresses are at most 20 characters; room for other connectors
SMSC_ID_LEN = 100  # SMPP message_id is at most 64 octets
STATE_LEN = 16
CODING_LEN = 8
COMMAND_LEN = 32
ERROR_LEN = 255
RECEIPT_STATE_LEN = 16

#: BIGINT ids on MariaDB, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
Id = BigInteger().with_variant(Integer(), "sqlite")
#: Microsecond timestamps on MariaDB (DATETIME alone truncates to seconds, which would
#: make leases and backoff coarse).
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
#: A whole long MO can be 255 parts; MEDIUMTEXT on MariaDB holds it in utf8mb4.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class Inbox(Base):
    """One mobile-originated message, whole (long ones assembled), waiting for a command."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("link", "smsc_id"),  # dedupe; NULL ids never collide
        Index("ix_inbox_state_id", "state", "id"),  # claims walk it in id order
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    link: Mapped[str] = mapped_column(String(LINK_LEN))
    smsc_id: Mapped[str | None] = mapped_column(String(SMSC_ID_LEN))
    sender: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    recipient: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    text: Mapped[str] = mapped_column(LongText)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(STATE_LEN), default="new")  # new/processing/done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(Timestamp)
    claimed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp)
    done_at: Mapped[datetime | None] = mapped_column(Timestamp)


class InboxPart(Base):
    """One part of a long MO, kept until the last part arrives or it expires."""

    __tablename__ = "inbox_part"
    __table_args__ = (
        UniqueConstraint("link", "sender", "reference", "total", "number"),
        UniqueConstraint("link", "smsc_id"),
        Index("ix_inbox_part_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    link: Mapped[str] = mapped_column(String(LINK_LEN))
    smsc_id: Mapped[str | None] = mapped_column(String(SMSC_ID_LEN))
    sender: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    recipient: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    reference: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(Timestamp)


class InboxSeenPart(Base):
    """SMS-centre ids of parts already assembled into an MO.

    A part whose acknowledgement was lost is sent again after its MO was assembled and its
    parts deleted; without this memory it would start a new, never-completed long MO and
    earn the user a spurious answer. Pruned by `inbox.expire_parts`.
    """

    __tablename__ = "inbox_seen_part"
    __table_args__ = (Index("ix_inbox_seen_part_seen_at", "seen_at"),)

    link: Mapped[str] = mapped_column(String(LINK_LEN), primary_key=True)
    smsc_id: Mapped[str] = mapped_column(String(SMSC_ID_LEN), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(Timestamp)


class Outbox(Base):
    """One SMS (one part of a reply) to submit, with its submit and receipt history."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at", "id"),
        Index("ix_outbox_smsc_id", "smsc_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    inbox_id: Mapped[int | None] = mapped_column(Id, ForeignKey("inbox.id"))
    link: Mapped[str | None] = mapped_column(String(LINK_LEN))
    sender: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    recipient: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    text: Mapped[str] = mapped_column(Text)
    coding: Mapped[str] = mapped_column(String(CODING_LEN))
    concat_ref: Mapped[int | None] = mapped_column(Integer)
    concat_total: Mapped[int | None] = mapped_column(Integer)
    concat_number: Mapped[int | None] = mapped_column(Integer)
    # queued / sending / sent / delivered / undelivered / failed
    state: Mapped[str] = mapped_column(String(STATE_LEN), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp)
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp)
    smsc_id: Mapped[str | None] = mapped_column(String(SMSC_ID_LEN))  # lowercased
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    submitted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    receipt_state: Mapped[str | None] = mapped_column(String(RECEIPT_STATE_LEN))
    receipt_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LEN))


class ReceiptOrphan(Base):
    """A delivery receipt that matched no submitted outbox row (yet).

    Fast SMS centres send the receipt before our submit response is committed; the
    orphan is matched again when the message id is recorded, and pruned after a while.
    """

    __tablename__ = "receipt_orphan"
    __table_args__ = (
        Index("ix_receipt_orphan_smsc_id", "smsc_id"),
        Index("ix_receipt_orphan_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    link: Mapped[str] = mapped_column(String(LINK_LEN))
    smsc_id: Mapped[str] = mapped_column(String(SMSC_ID_LEN))  # lowercased
    state: Mapped[str] = mapped_column(String(RECEIPT_STATE_LEN))
    error: Mapped[str | None] = mapped_column(String(ERROR_LEN))
    received_at: Mapped[datetime] = mapped_column(Timestamp)


class CommandLog(Base):
    """The business log: one row per handled MO, never two (unique inbox_id)."""

    __tablename__ = "command_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    inbox_id: Mapped[int] = mapped_column(Id, ForeignKey("inbox.id"), unique=True)
    enterprise_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String(COMMAND_LEN))
    ok: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
