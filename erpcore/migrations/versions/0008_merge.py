"""Join the per-module branches (0003–0007) into one head, so that later revisions can
depend on every table at once.

Revision ID: 0008_merge
Revises: 0003_people, 0004_stock, 0006_sync, 0007_push
"""
from __future__ import annotations

revision = "0008_merge"
down_revision = ("0003_people", "0004_stock", "0006_sync", "0007_push")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
