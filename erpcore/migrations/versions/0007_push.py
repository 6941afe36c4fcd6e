"""WAP Push: users whose handsets take Service Indications (issue 6).

Revision ID: 0007_push
Revises: 0005_documents
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_push"
down_revision = "0005_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("push_capable", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("push_capable")
