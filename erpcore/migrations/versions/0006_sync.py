"""Sync with enterprise servers: the mirror of each enterprise's copy, the conflict log,
and the memory of applied chunks.

Revision ID: 0006_sync
Revises: 0002_messaging
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.base import MYSQL_TABLE_OPTIONS

revision = "0006_sync"
down_revision = "0002_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_mirror",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("pk", sa.String(191), nullable=False),
        sa.Column("row_hash", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tombstone", sa.Boolean(), nullable=False),
        sa.Column("flag", sa.String(12), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("sent_hash", sa.String(32), nullable=True),
        sa.Column("changed_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_mirror")),
        sa.UniqueConstraint("scope", "table_name", "pk", name=op.f("uq_sync_mirror_scope_table_name_pk")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_sync_mirror_flag", "sync_mirror", ["scope", "table_name", "flag"])
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("pk", sa.String(191), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("winner", sa.String(12), nullable=True),
        sa.Column("cluster_data", sa.Text(), nullable=False),
        sa.Column("enterprise_data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_sync_conflicts_state", "sync_conflicts", ["scope", "state"])
    op.create_table(
        "sync_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_chunks")),
        sa.UniqueConstraint("scope", "batch_id", "seq", name=op.f("uq_sync_chunks_scope_batch_id_seq")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("sync_chunks")
    op.drop_index("ix_sync_conflicts_state", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_index("ix_sync_mirror_flag", table_name="sync_mirror")
    op.drop_table("sync_mirror")
