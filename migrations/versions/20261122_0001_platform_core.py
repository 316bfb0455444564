"""platform core: tenants, identity, idempotency, workshops

Revision ID: 0001
Revises:
Create Date: 2026-11-22 01:54:18.330932
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_login_failures")),
    )
    with op.batch_alter_table("platform_login_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_platform_login_failures_key_at", ["key", "at"], unique=False
        )

    op.create_table(
        "platform_tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("default_locale", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                name="tenantstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_tenants")),
        sa.UniqueConstraint("code", name=op.f("uq_platform_tenants_code")),
    )
    op.create_table(
        "platform_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("preferred_locale", sa.String(length=16), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_platform_operator", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_users")),
        sa.UniqueConstraint("username", name=op.f("uq_platform_users_username")),
    )
    op.create_table(
        "platform_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "personal",
                "machine",
                name="tokenkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", platform_core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_used_at", platform_core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "revoked_at", platform_core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["platform_users.id"],
            name=op.f("fk_platform_api_tokens_created_by_id_platform_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_api_tokens_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["platform_users.id"],
            name=op.f("fk_platform_api_tokens_user_id_platform_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_platform_api_tokens_prefix")),
    )
    with op.batch_alter_table("platform_api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_api_tokens_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_platform_api_tokens_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "platform_employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_employees_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["platform_users.id"],
            name=op.f("fk_platform_employees_user_id_platform_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_employees")),
        sa.UniqueConstraint(
            "tenant_id",
            "employee_no",
            name=op.f("uq_platform_employees_tenant_id_employee_no"),
        ),
        sa.UniqueConstraint(
            "tenant_id", "user_id", name=op.f("uq_platform_employees_tenant_id_user_id")
        ),
    )
    with op.batch_alter_table("platform_employees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_employees_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "platform_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_idempotency_keys_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_idempotency_keys")),
        sa.UniqueConstraint(
            "tenant_id", "key", name=op.f("uq_platform_idempotency_keys_tenant_id_key")
        ),
    )
    with op.batch_alter_table("platform_idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_idempotency_keys_tenant_id"),
            ["tenant_id"],
            unique=False,
        )

    op.create_table(
        "platform_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "tenant_admin",
                "planner",
                "supervisor",
                "operator",
                "quality_inspector",
                "maintenance_technician",
                "viewer",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_memberships_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["platform_users.id"],
            name=op.f("fk_platform_memberships_user_id_platform_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_memberships")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "role",
            name=op.f("uq_platform_memberships_tenant_id_user_id_role"),
        ),
    )
    with op.batch_alter_table("platform_memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_memberships_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_platform_memberships_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "platform_tenant_apps",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("app", sa.String(length=32), nullable=False),
        sa.Column(
            "enabled_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_tenant_apps_tenant_id_platform_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "app", name=op.f("pk_platform_tenant_apps")
        ),
    )
    op.create_table(
        "platform_web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_web_sessions_tenant_id_platform_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["platform_users.id"],
            name=op.f("fk_platform_web_sessions_user_id_platform_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_web_sessions")),
    )
    with op.batch_alter_table("platform_web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_web_sessions_expires_at"),
            ["expires_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_platform_web_sessions_tenant_id"),
            ["tenant_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_platform_web_sessions_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "platform_workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_workshops_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_workshops")),
        sa.UniqueConstraint(
            "tenant_id", "code", name=op.f("uq_platform_workshops_tenant_id_code")
        ),
    )
    with op.batch_alter_table("platform_workshops", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_workshops_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("platform_workshops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_workshops_tenant_id"))

    op.drop_table("platform_workshops")
    with op.batch_alter_table("platform_web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_web_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_platform_web_sessions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_web_sessions_expires_at"))

    op.drop_table("platform_web_sessions")
    op.drop_table("platform_tenant_apps")
    with op.batch_alter_table("platform_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_platform_memberships_tenant_id"))

    op.drop_table("platform_memberships")
    with op.batch_alter_table("platform_idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_idempotency_keys_tenant_id"))

    op.drop_table("platform_idempotency_keys")
    with op.batch_alter_table("platform_employees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_employees_tenant_id"))

    op.drop_table("platform_employees")
    with op.batch_alter_table("platform_api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_api_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_platform_api_tokens_tenant_id"))

    op.drop_table("platform_api_tokens")
    op.drop_table("platform_users")
    op.drop_table("platform_tenants")
    with op.batch_alter_table("platform_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_login_failures_key_at")

    op.drop_table("platform_login_failures")
