"""Messaging tables: inbox, inbox_part, inbox_seen_part, outbox, receipt_orphan, command_log.

Revision ID: 0002_messaging
Revises: 0001_core
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002_messaging"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# Frozen copies of the model types (a migration must not change when the models do).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "inbox",
        _id(),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("smsc_id", sa.String(100), nullable=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("text", LONG_TEXT, nullable=False),
        sa.Column("incomplete", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("link", "smsc_id", name="uq_inbox_link_smsc_id"),
    )
    op.create_index("ix_inbox_state_id", "inbox", ["state", "id"])

    op.create_table(
        "inbox_part",
        _id(),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("smsc_id", sa.String(100), nullable=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox_part"),
        sa.UniqueConstraint(
            "link", "sender", "reference", "total", "number",
            name="uq_inbox_part_link_sender_reference_total_number",
        ),
        sa.UniqueConstraint("link", "smsc_id", name="uq_inbox_part_link_smsc_id"),
    )
    op.create_index("ix_inbox_part_received_at", "inbox_part", ["received_at"])

    op.create_table(
        "inbox_seen_part",
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("smsc_id", sa.String(100), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("link", "smsc_id", name="pk_inbox_seen_part"),
    )
    op.create_index("ix_inbox_seen_part_seen_at", "inbox_seen_part", ["seen_at"])

    op.create_table(
        "outbox",
        _id(),
        sa.Column("inbox_id", ID, nullable=True),
        sa.Column("link", sa.String(64), nullable=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("coding", sa.String(8), nullable=False),
        sa.Column("concat_ref", sa.Integer(), nullable=True),
        sa.Column("concat_total", sa.Integer(), nullable=True),
        sa.Column("concat_number", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("smsc_id", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("receipt_state", sa.String(16), nullable=True),
        sa.Column("receipt_at", TS, nullable=True),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["inbox_id"], ["inbox.id"], name="fk_outbox_inbox_id_inbox"),
    )
    op.create_index(
        "ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at", "id"]
    )
    op.create_index("ix_outbox_smsc_id", "outbox", ["smsc_id"])

    op.create_table(
        "receipt_orphan",
        _id(),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("smsc_id", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_receipt_orphan"),
    )
    op.create_index("ix_receipt_orphan_smsc_id", "receipt_orphan", ["smsc_id"])
    op.create_index("ix_receipt_orphan_received_at", "receipt_orphan", ["received_at"])

    op.create_table(
        "command_log",
        _id(),
        sa.Column("inbox_id", ID, nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_command_log"),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inbox.id"], name="fk_command_log_inbox_id_inbox"
        ),
        sa.UniqueConstraint("inbox_id", name="uq_command_log_inbox_id"),
    )


def downgrade() -> None:
    op.drop_table("command_log")
    op.drop_table("receipt_orphan")
    op.drop_table("outbox")
    op.drop_table("inbox_seen_part")
    op.drop_table("inbox_part")
    op.drop_table("inbox")
