"""scheduling: runs and schedule versions, planned slots, settings, changeover times, actuals

Revision ID: 0400
Revises: 0300
Create Date: 2026-11-22 03:40:37.132604
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0400"
down_revision = "0300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduling_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "preset",
            sa.Enum(
                "on_time",
                "makespan",
                "setups",
                "balanced",
                name="preset",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("repair_time_limit_s", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("frozen_minutes", sa.Integer(), nullable=False),
        sa.Column("allow_pause", sa.Boolean(), nullable=False),
        sa.Column("changeover_minutes", sa.Integer(), nullable=False),
        sa.Column("transfer_batch", sa.Integer(), nullable=False),
        sa.Column("unknown_down_minutes", sa.Integer(), nullable=False),
        sa.Column("auto_repair", sa.Boolean(), nullable=False),
        sa.Column("auto_publish_repairs", sa.Boolean(), nullable=False),
        sa.Column("slippage_minutes", sa.Integer(), nullable=False),
        sa.Column("rush_priority", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_scheduling_settings_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_scheduling_settings_tenant_id")),
    )
    with op.batch_alter_table("scheduling_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduling_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "scheduling_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "plan", "reoptimise", "repair", name="runkind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "draft",
                "proposed",
                "published",
                "superseded",
                "discarded",
                "infeasible",
                "failed",
                "cancelled",
                name="runstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "preset",
            sa.Enum(
                "on_time",
                "makespan",
                "setups",
                "balanced",
                name="preset",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("horizon_start", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("order_ids", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("cause_detail", sa.JSON(), nullable=True),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("solver_status", sa.String(length=16), nullable=True),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("wall_seconds", sa.Float(), nullable=True),
        sa.Column("improvements", sa.Integer(), nullable=True),
        sa.Column("progress_log", sa.JSON(), nullable=True),
        sa.Column("kpis", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("origin", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("instance", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "time_limit_s >= 1 AND time_limit_s <= 3600", name=op.f("ck_scheduling_runs_time_limit_range")
        ),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["scheduling_runs.id"],
            name=op.f("fk_scheduling_runs_base_id_scheduling_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["platform_jobs.id"], name=op.f("fk_scheduling_runs_job_id_platform_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_scheduling_runs_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_runs")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_scheduling_runs_tenant_id_number")),
    )
    with op.batch_alter_table("scheduling_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduling_runs_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_runs_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_runs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_runs_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "uq_scheduling_runs_published",
            ["tenant_id"],
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )

    op.create_table(
        "scheduling_setup_times",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_family_id", sa.Integer(), nullable=False),
        sa.Column("to_family_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("minutes >= 0 AND minutes <= 10080", name=op.f("ck_scheduling_setup_times_minutes_range")),
        sa.ForeignKeyConstraint(
            ["from_family_id"],
            ["platform_product_families.id"],
            name=op.f("fk_scheduling_setup_times_from_family_id_platform_product_families"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_scheduling_setup_times_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_family_id"],
            ["platform_product_families.id"],
            name=op.f("fk_scheduling_setup_times_to_family_id_platform_product_families"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_setup_times")),
        sa.UniqueConstraint(
            "tenant_id",
            "from_family_id",
            "to_family_id",
            name=op.f("uq_scheduling_setup_times_tenant_id_from_family_id_to_family_id"),
        ),
    )
    with op.batch_alter_table("scheduling_setup_times", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduling_setup_times_from_family_id"), ["from_family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_setup_times_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_setup_times_to_family_id"), ["to_family_id"], unique=False)

    op.create_table(
        "scheduling_actuals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("started_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_scheduling_actuals_machine_id_platform_machines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_scheduling_actuals_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_actuals")),
    )
    with op.batch_alter_table("scheduling_actuals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduling_actuals_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_actuals_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_scheduling_actuals_window", ["tenant_id", "started_at"], unique=False)

    op.create_table(
        "scheduling_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("op_sequence", sa.Integer(), nullable=False),
        sa.Column("op_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("start", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("setup_minutes", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_scheduling_slots_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scheduling_runs.id"],
            name=op.f("fk_scheduling_slots_run_id_scheduling_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_scheduling_slots_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_slots")),
        sa.UniqueConstraint("run_id", "operation_id", name=op.f("uq_scheduling_slots_run_id_operation_id")),
    )
    with op.batch_alter_table("scheduling_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduling_slots_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index("ix_scheduling_slots_run_machine", ["run_id", "machine_id", "start"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduling_slots_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduling_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduling_slots_tenant_id"))
        batch_op.drop_index("ix_scheduling_slots_run_machine")
        batch_op.drop_index(batch_op.f("ix_scheduling_slots_machine_id"))

    op.drop_table("scheduling_slots")
    with op.batch_alter_table("scheduling_actuals", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduling_actuals_window")
        batch_op.drop_index(batch_op.f("ix_scheduling_actuals_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_scheduling_actuals_operation_id"))

    op.drop_table("scheduling_actuals")
    with op.batch_alter_table("scheduling_setup_times", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduling_setup_times_to_family_id"))
        batch_op.drop_index(batch_op.f("ix_scheduling_setup_times_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_scheduling_setup_times_from_family_id"))

    op.drop_table("scheduling_setup_times")
    with op.batch_alter_table("scheduling_runs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_scheduling_runs_published",
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )
        batch_op.drop_index(batch_op.f("ix_scheduling_runs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_scheduling_runs_status"))
        batch_op.drop_index(batch_op.f("ix_scheduling_runs_job_id"))
        batch_op.drop_index(batch_op.f("ix_scheduling_runs_base_id"))

    op.drop_table("scheduling_runs")
    with op.batch_alter_table("scheduling_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduling_settings_tenant_id"))

    op.drop_table("scheduling_settings")
