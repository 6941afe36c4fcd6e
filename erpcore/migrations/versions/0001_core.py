"""Core tables: enterprises, sites, users, items, stock levels.

Revision ID: 0001_core
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.base import MYSQL_TABLE_OPTIONS

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=True),
        sa.Column("extension", sa.String(8), nullable=False),
        sa.Column("lang", sa.String(2), server_default="zh", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enterprises"),
        sa.UniqueConstraint("code", name="uq_enterprises_code"),
        sa.UniqueConstraint("extension", name="uq_enterprises_extension"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('warehouse', 'hall', 'agent', 'service')", name="ck_sites_kind"
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_sites_enterprise_id_enterprises"
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["sites.id"], name="fk_sites_parent_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("enterprise_id", "code", name="uq_sites_enterprise_id_code"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_sites_enterprise_id", "sites", ["enterprise_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("msisdn", sa.String(24), nullable=True),
        sa.Column("lang", sa.String(2), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(32), server_default="clerk", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_users_enterprise_id_enterprises"
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_users_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("enterprise_id", "msisdn", name="uq_users_enterprise_id_msisdn"),
        sa.UniqueConstraint("enterprise_id", "username", name="uq_users_enterprise_id_username"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_users_enterprise_id", "users", ["enterprise_id"])
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=True),
        sa.Column("brand", sa.String(64), nullable=True),
        sa.Column("model", sa.String(64), nullable=True),
        sa.Column("tac", sa.String(8), nullable=True),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name="fk_items_enterprise_id_enterprises"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("enterprise_id", "sku", name="uq_items_enterprise_id_sku"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_items_enterprise_id", "items", ["enterprise_id"])
    op.create_index("ix_items_tac", "items", ["tac"])
    op.create_table(
        "stock_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_stock_levels_item_id_items"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_stock_levels_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_stock_levels"),
        sa.UniqueConstraint("item_id", "site_id", name="uq_stock_levels_item_id_site_id"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_stock_levels_site_id", "stock_levels", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_stock_levels_site_id", table_name="stock_levels")
    op.drop_table("stock_levels")
    op.drop_index("ix_items_tac", table_name="items")
    op.drop_index("ix_items_enterprise_id", table_name="items")
    op.drop_table("items")
    op.drop_index("ix_users_enterprise_id", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_sites_enterprise_id", table_name="sites")
    op.drop_table("sites")
    op.drop_table("enterprises")
