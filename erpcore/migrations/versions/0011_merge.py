"""Join the sync-nonce (0009) and per-enterprise quiet-hours (0010) revisions into one head.

Revision ID: 0011_merge
Revises: 0009_sync_scan, 0010_quiet_hours
"""
from __future__ import annotations

revision = "0011_merge"
down_revision = ("0009_sync_scan", "0010_quiet_hours")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
