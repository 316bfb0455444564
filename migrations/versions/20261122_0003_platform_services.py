"""platform services

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 02:33:06.174306
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platform_workers',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('hostname', sa.String(length=120), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('is_leader', sa.Boolean(), nullable=False),
    sa.Column('started_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_platform_workers'))
    )
    op.create_table('platform_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_token_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['platform_tenants.id'], name=op.f('fk_platform_audit_log_tenant_id_platform_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_audit_log'))
    )
    with op.batch_alter_table('platform_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_audit_log_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index('ix_platform_audit_log_at', ['tenant_id', 'at'], unique=False)
        batch_op.create_index('ix_platform_audit_log_entity', ['tenant_id', 'entity', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_audit_log_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('platform_event_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('subscriber', sa.String(length=120), nullable=False),
    sa.Column('handled_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['platform_tenants.id'], name=op.f('fk_platform_event_receipts_tenant_id_platform_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_event_receipts')),
    sa.UniqueConstraint('event_id', 'subscriber', name=op.f('uq_platform_event_receipts_event_id_subscriber'))
    )
    with op.batch_alter_table('platform_event_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_event_receipts_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('platform_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', 'cancelled', name='jobstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=True),
    sa.Column('heartbeat_at', platform_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', platform_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', platform_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['platform_tenants.id'], name=op.f('fk_platform_jobs_tenant_id_platform_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_jobs'))
    )
    with op.batch_alter_table('platform_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_platform_jobs_claim', ['status', 'priority', 'run_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_jobs_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('platform_outbox',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('actor', sa.JSON(), nullable=False),
    sa.Column('occurred_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', platform_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', platform_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['platform_tenants.id'], name=op.f('fk_platform_outbox_tenant_id_platform_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_outbox'))
    )
    with op.batch_alter_table('platform_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_platform_outbox_pending', ['dispatched_at', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_outbox_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('platform_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['platform_tenants.id'], name=op.f('fk_platform_webhooks_tenant_id_platform_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_webhooks'))
    )
    with op.batch_alter_table('platform_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_webhooks_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('platform_webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_name', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', platform_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', platform_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['platform_tenants.id'], name=op.f('fk_platform_webhook_deliveries_tenant_id_platform_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['webhook_id'], ['platform_webhooks.id'], name=op.f('fk_platform_webhook_deliveries_webhook_id_platform_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', 'event_id', name=op.f('uq_platform_webhook_deliveries_webhook_id_event_id'))
    )
    with op.batch_alter_table('platform_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_platform_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_webhook_deliveries_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_webhook_deliveries_webhook_id'), ['webhook_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('platform_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_webhook_deliveries_webhook_id'))
        batch_op.drop_index(batch_op.f('ix_platform_webhook_deliveries_tenant_id'))
        batch_op.drop_index('ix_platform_webhook_deliveries_due')

    op.drop_table('platform_webhook_deliveries')
    with op.batch_alter_table('platform_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_webhooks_tenant_id'))

    op.drop_table('platform_webhooks')
    with op.batch_alter_table('platform_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_outbox_tenant_id'))
        batch_op.drop_index('ix_platform_outbox_pending')

    op.drop_table('platform_outbox')
    with op.batch_alter_table('platform_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_jobs_tenant_id'))
        batch_op.drop_index('ix_platform_jobs_claim')

    op.drop_table('platform_jobs')
    with op.batch_alter_table('platform_event_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_event_receipts_tenant_id'))

    op.drop_table('platform_event_receipts')
    with op.batch_alter_table('platform_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_audit_log_tenant_id'))
        batch_op.drop_index('ix_platform_audit_log_entity')
        batch_op.drop_index('ix_platform_audit_log_at')
        batch_op.drop_index(batch_op.f('ix_platform_audit_log_actor_user_id'))

    op.drop_table('platform_audit_log')
    op.drop_table('platform_workers')
