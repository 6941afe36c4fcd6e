"""Sync: the nonces of signed requests taken inside the replay window, kept in the store
so a request replayed after a gateway restart (or to another gateway process sharing the
database) is still refused.

Revision ID: 0009_sync_scan
Revises: 0008_merge
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.base import MYSQL_TABLE_OPTIONS

revision = "0009_sync_scan"
down_revision = "0008_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_nonces")),
        sa.UniqueConstraint("scope", "nonce", name=op.f("uq_sync_nonces_scope_nonce")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_sync_nonces_stamp", "sync_nonces", ["scope", "stamp"])


def downgrade() -> None:
    op.drop_index("ix_sync_nonces_stamp", table_name="sync_nonces")
    op.drop_table("sync_nonces")
