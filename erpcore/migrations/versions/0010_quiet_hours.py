"""Quiet hours per enterprise: its own window (HH:MM local time) and its UTC offset; NULL
keeps the gateway's [notify] defaults (erpcore.quiet_hours).

Revision ID: 0010_quiet_hours
Revises: 0008_merge
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_quiet_hours"
down_revision = "0008_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprises") as batch:
        batch.add_column(sa.Column("quiet_start", sa.String(5), nullable=True))
        batch.add_column(sa.Column("quiet_end", sa.String(5), nullable=True))
        batch.add_column(sa.Column("utc_offset_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enterprises") as batch:
        batch.drop_column("utc_offset_minutes")
        batch.drop_column("quiet_end")
        batch.drop_column("quiet_start")
