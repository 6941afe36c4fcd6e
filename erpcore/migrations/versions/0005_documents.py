"""Documents and field work: partners, orders and approvals, notifications, low-stock
alerts, field tasks and cross-organisation sharing groups.

Revision ID: 0005_documents
Revises: 0002_messaging
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_documents"
down_revision = "0002_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('document_kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('min_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_approval_rules_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_rules')),
    sa.UniqueConstraint('enterprise_id', 'document_kind', 'level', name=op.f('uq_approval_rules_enterprise_id_document_kind_level')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_table('document_sequences',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_document_sequences_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('enterprise_id', 'name', name=op.f('pk_document_sequences')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('msisdn', sa.String(length=24), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("kind IN ('supplier', 'agent')", name=op.f('ck_partners_kind')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_partners_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('enterprise_id', 'code', name=op.f('uq_partners_enterprise_id_code')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_table('share_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_enterprise_id'], ['enterprises.id'], name=op.f('fk_share_groups_owner_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_groups')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_share_groups_owner_enterprise_id'), 'share_groups', ['owner_enterprise_id'], unique=False)
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_alert_rules_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_alert_rules_item_id_items')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_alert_rules_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_alert_rules_enterprise_item', 'alert_rules', ['enterprise_id', 'item_id'], unique=False)
    op.create_table('share_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('cloud_code', sa.String(length=32), nullable=False),
    sa.Column('enterprise_code', sa.String(length=32), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_share_members_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['group_id'], ['share_groups.id'], name=op.f('fk_share_members_group_id_share_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_members')),
    sa.UniqueConstraint('group_id', 'cloud_code', 'enterprise_code', name=op.f('uq_share_members_group_id_cloud_code_enterprise_code')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_share_members_enterprise_id'), 'share_members', ['enterprise_id'], unique=False)
    op.create_table('alert_firings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.Integer(), nullable=False),
    sa.Column('after', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_alert_firings_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_alert_firings_item_id_items')),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_firings_rule_id_alert_rules')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_alert_firings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_firings')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_alert_firings_rule', 'alert_firings', ['rule_id', 'id'], unique=False)
    op.create_table('alert_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_recipients_rule_id_alert_rules')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_recipients_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_recipients')),
    sa.UniqueConstraint('rule_id', 'user_id', name=op.f('uq_alert_recipients_rule_id_user_id')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_alert_recipients_user_id'), 'alert_recipients', ['user_id'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('msisdn', sa.String(length=24), nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_notifications_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_notifications_state_id', 'notifications', ['state', 'id'], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('requester_user_id', sa.Integer(), nullable=False),
    sa.Column('from_site_id', sa.Integer(), nullable=True),
    sa.Column('to_site_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('approval_level', sa.Integer(), nullable=True),
    sa.Column('awaiting_role', sa.String(length=32), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('fulfilled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('purchase', 'sales', 'transfer', 'return')", name=op.f('ck_orders_kind')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_orders_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['from_site_id'], ['sites.id'], name=op.f('fk_orders_from_site_id_sites')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_orders_partner_id_partners')),
    sa.ForeignKeyConstraint(['requester_user_id'], ['users.id'], name=op.f('fk_orders_requester_user_id_users')),
    sa.ForeignKeyConstraint(['to_site_id'], ['sites.id'], name=op.f('fk_orders_to_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('enterprise_id', 'number', name=op.f('uq_orders_enterprise_id_number')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_orders_partner', 'orders', ['enterprise_id', 'partner_id', 'state'], unique=False)
    op.create_index('ix_orders_pending', 'orders', ['enterprise_id', 'state', 'awaiting_role'], unique=False)
    op.create_table('share_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('owner_member_id', sa.Integer(), nullable=False),
    sa.Column('viewer_member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['share_groups.id'], name=op.f('fk_share_rules_group_id_share_groups')),
    sa.ForeignKeyConstraint(['owner_member_id'], ['share_members.id'], name=op.f('fk_share_rules_owner_member_id_share_members')),
    sa.ForeignKeyConstraint(['viewer_member_id'], ['share_members.id'], name=op.f('fk_share_rules_viewer_member_id_share_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_rules')),
    sa.UniqueConstraint('group_id', 'owner_member_id', 'viewer_member_id', 'kind', name=op.f('uq_share_rules_group_id_owner_member_id_viewer_member_id_kind')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_table('staff_status',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('cell_id', sa.String(length=32), nullable=True),
    sa.Column('lat', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('lon', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('available', 'busy', 'offline')", name=op.f('ck_staff_status_state')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_staff_status_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_status_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_status')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_staff_status_enterprise_state', 'staff_status', ['enterprise_id', 'state'], unique=False)
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cell_id', sa.String(length=32), nullable=True),
    sa.Column('lat', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('lon', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('assignee_user_id', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_user_id'], ['users.id'], name=op.f('fk_tasks_assignee_user_id_users')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_tasks_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_tasks_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_tasks_assignee_state', 'tasks', ['enterprise_id', 'assignee_user_id', 'state'], unique=False)
    op.create_table('approval_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_approval_steps_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_approval_steps_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_approval_steps_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_steps')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index('ix_approval_steps_order', 'approval_steps', ['order_id', 'level'], unique=False)
    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_order_lines_item_id_items')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    mysql_charset='utf8mb4',
    mysql_engine='InnoDB'
    )
    op.create_index(op.f('ix_order_lines_order_id'), 'order_lines', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_table('order_lines')
    op.drop_table('approval_steps')
    op.drop_table('tasks')
    op.drop_table('staff_status')
    op.drop_table('share_rules')
    op.drop_table('orders')
    op.drop_table('notifications')
    op.drop_table('alert_recipients')
    op.drop_table('alert_firings')
    op.drop_table('share_members')
    op.drop_table('alert_rules')
    op.drop_table('share_groups')
    op.drop_table('partners')
    op.drop_table('document_sequences')
    op.drop_table('approval_rules')
