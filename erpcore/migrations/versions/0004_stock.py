"""Stock: province and city sites, serialised items, movements, handsets and their history.

Revision ID: 0004_stock
Revises: 0002_messaging
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.base import MYSQL_TABLE_OPTIONS

revision = "0004_stock"
down_revision = "0002_messaging"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('warehouse', 'hall', 'agent', 'service')"
NEW_KINDS = "kind IN ('warehouse', 'hall', 'agent', 'service', 'province', 'city')"


def _set_site_kinds(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a CHECK. Widening one changes no stored row, so the SQLite
        # documentation's procedure applies: edit the schema text in place. (Rebuilding
        # the table would fail: DROP TABLE sites violates users' and stock's foreign keys,
        # which cannot be switched off inside the migration's transaction.)
        bind = op.get_bind()
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sites'").scalar()
        if old not in sql:
            raise RuntimeError(f"sites has an unexpected kind check: {sql}")
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'sites'",
            (sql.replace(old, new),))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    else:
        # 0001 left the name doubled by the naming convention (ck_sites_ck_sites_kind) on
        # MariaDB: drop whichever kind check is there.
        for check in sa.inspect(op.get_bind()).get_check_constraints("sites"):
            if check["name"] in ("ck_sites_kind", "ck_sites_ck_sites_kind"):
                op.drop_constraint(op.f(check["name"]), "sites", type_="check")
        op.create_check_constraint(op.f("ck_sites_kind"), "sites", sa.text(new))


def upgrade() -> None:
    _set_site_kinds(OLD_KINDS, NEW_KINDS)
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("serialised", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("from_site_id", sa.Integer(), nullable=True),
        sa.Column("to_site_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name="fk_movements_enterprise_id_enterprises"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_movements_item_id_items"),
        sa.ForeignKeyConstraint(["from_site_id"], ["sites.id"], name="fk_movements_from_site_id_sites"),
        sa.ForeignKeyConstraint(["to_site_id"], ["sites.id"], name="fk_movements_to_site_id_sites"),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name="fk_movements_actor_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_movements"),
        sa.UniqueConstraint("enterprise_id", "number", name="uq_movements_enterprise_id_number"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_movements_enterprise_id", "movements", ["enterprise_id"])
    op.create_index("ix_movements_item_id", "movements", ["item_id"])
    op.create_table(
        "handsets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("imei", sa.String(15), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_movement_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name="fk_handsets_enterprise_id_enterprises"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_handsets_item_id_items"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_handsets_site_id_sites"),
        sa.ForeignKeyConstraint(["last_movement_id"], ["movements.id"],
                                name="fk_handsets_last_movement_id_movements"),
        sa.PrimaryKeyConstraint("id", name="pk_handsets"),
        sa.UniqueConstraint("enterprise_id", "imei", name="uq_handsets_enterprise_id_imei"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_handsets_item_id", "handsets", ["item_id"])
    op.create_index("ix_handsets_last_movement_id", "handsets", ["last_movement_id"])
    op.create_index("ix_handsets_site_id_item_id", "handsets", ["site_id", "item_id"])
    op.create_table(
        "handset_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("handset_id", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_site_id", sa.Integer(), nullable=True),
        sa.Column("to_site_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name="fk_handset_events_enterprise_id_enterprises"),
        sa.ForeignKeyConstraint(["handset_id"], ["handsets.id"],
                                name="fk_handset_events_handset_id_handsets"),
        sa.ForeignKeyConstraint(["movement_id"], ["movements.id"],
                                name="fk_handset_events_movement_id_movements"),
        sa.ForeignKeyConstraint(["from_site_id"], ["sites.id"],
                                name="fk_handset_events_from_site_id_sites"),
        sa.ForeignKeyConstraint(["to_site_id"], ["sites.id"], name="fk_handset_events_to_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_handset_events"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_handset_events_handset_id", "handset_events", ["handset_id"])
    op.create_index("ix_handset_events_movement_id", "handset_events", ["movement_id"])


def downgrade() -> None:
    op.drop_table("handset_events")
    op.drop_table("handsets")
    op.drop_table("movements")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("serialised")
    _set_site_kinds(NEW_KINDS, OLD_KINDS)
