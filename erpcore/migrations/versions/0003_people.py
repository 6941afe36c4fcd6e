"""People and platform: audit log, extra roles, credentials, tenant clouds, services.

Revision ID: 0003_people
Revises: 0002_messaging
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.base import MYSQL_TABLE_OPTIONS

revision = "0003_people"
down_revision = "0002_messaging"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        _fk("audit_log", "enterprise_id", "enterprises"),
        _fk("audit_log", "actor_user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(
        "ix_audit_log_enterprise_id_entity_entity_id", "audit_log",
        ["enterprise_id", "entity", "entity_id"],
    )
    op.create_table(
        "user_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        _fk("user_roles", "enterprise_id", "enterprises"),
        _fk("user_roles", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_user_roles"),
        sa.UniqueConstraint("user_id", "role", name="uq_user_roles_user_id_role"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "user_credentials",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_failed_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        _fk("user_credentials", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_credentials"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "tenant_clouds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("endpoint", sa.String(255), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenant_clouds"),
        sa.UniqueConstraint("code", name="uq_tenant_clouds_code"),
        **MYSQL_TABLE_OPTIONS,
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with an inline REFERENCES clause; a batch rebuild of
        # `enterprises` would drop a table every other table refers to.
        op.execute(
            "ALTER TABLE enterprises ADD COLUMN cloud_id INTEGER "
            "CONSTRAINT fk_enterprises_cloud_id_tenant_clouds REFERENCES tenant_clouds (id)"
        )
    else:
        op.add_column("enterprises", sa.Column("cloud_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_enterprises_cloud_id_tenant_clouds", "enterprises", "tenant_clouds",
            ["cloud_id"], ["id"],
        )
    op.create_table(
        "service_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed')", name="ck_service_subscriptions_state"),
        _fk("service_subscriptions", "enterprise_id", "enterprises"),
        sa.PrimaryKeyConstraint("id", name="pk_service_subscriptions"),
        sa.UniqueConstraint(
            "enterprise_id", "module", name="uq_service_subscriptions_enterprise_id_module"
        ),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "service_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_code", sa.String(32), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("module", sa.String(16), nullable=False),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("message", sa.String(255), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("billing_state", sa.String(8), nullable=False),
        sa.Column("billing_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("billing_error", sa.String(255), nullable=True),
        _fk("service_requests", "enterprise_id", "enterprises"),
        sa.PrimaryKeyConstraint("id", name="pk_service_requests"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_service_requests_enterprise_id", "service_requests", ["enterprise_id"])
    op.create_index("ix_service_requests_billing_state", "service_requests", ["billing_state"])


def downgrade() -> None:
    op.drop_index("ix_service_requests_billing_state", table_name="service_requests")
    op.drop_index("ix_service_requests_enterprise_id", table_name="service_requests")
    op.drop_table("service_requests")
    op.drop_table("service_subscriptions")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE enterprises DROP COLUMN cloud_id")
    else:
        op.drop_constraint("fk_enterprises_cloud_id_tenant_clouds", "enterprises", type_="foreignkey")
        op.drop_column("enterprises", "cloud_id")
    op.drop_table("tenant_clouds")
    op.drop_table("user_credentials")
    op.drop_table("user_roles")
    op.drop_index("ix_audit_log_enterprise_id_entity_entity_id", table_name="audit_log")
    op.drop_table("audit_log")
