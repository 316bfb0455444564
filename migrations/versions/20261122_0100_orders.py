"""orders: routings, work orders, operations, work reports, held lots

Revision ID: 0100
Revises: 0002
Create Date: 2026-11-22 03:05:02.243115
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0100"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders_held_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("ncr_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("held_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_held_lots_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_held_lots")),
    )
    with op.batch_alter_table("orders_held_lots", schema=None) as batch_op:
        batch_op.create_index("ix_orders_held_lots_lot", ["tenant_id", "lot"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_held_lots_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("over_tolerance_pct", sa.Float(), server_default="0", nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "over_tolerance_pct >= 0 AND over_tolerance_pct <= 100", name=op.f("ck_orders_settings_tolerance_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_settings_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_orders_settings_tenant_id")),
    )
    with op.batch_alter_table("orders_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_routings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "archived",
                name="routingstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_orders_routings_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_routings_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_routings")),
        sa.UniqueConstraint(
            "tenant_id", "product_id", "version", name=op.f("uq_orders_routings_tenant_id_product_id_version")
        ),
    )
    with op.batch_alter_table("orders_routings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_routings_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_routings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_routing_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("routing_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("work_center_id", sa.Integer(), nullable=False),
        sa.Column("setup_minutes", sa.Float(), nullable=False),
        sa.Column("seconds_per_unit", sa.Float(), nullable=False),
        sa.Column("allow_partial", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("seconds_per_unit >= 0", name=op.f("ck_orders_routing_steps_run_time_not_negative")),
        sa.CheckConstraint("setup_minutes >= 0", name=op.f("ck_orders_routing_steps_setup_not_negative")),
        sa.ForeignKeyConstraint(
            ["routing_id"],
            ["orders_routings.id"],
            name=op.f("fk_orders_routing_steps_routing_id_orders_routings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_routing_steps_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["platform_work_centers.id"],
            name=op.f("fk_orders_routing_steps_work_center_id_platform_work_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_routing_steps")),
        sa.UniqueConstraint("routing_id", "sequence", name=op.f("uq_orders_routing_steps_routing_id_sequence")),
    )
    with op.batch_alter_table("orders_routing_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_routing_steps_routing_id"), ["routing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_routing_steps_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_routing_steps_work_center_id"), ["work_center_id"], unique=False)

    op.create_table(
        "orders_work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("routing_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=True),
        sa.Column("sales_order", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "released",
                "in_progress",
                "completed",
                "closed",
                "on_hold",
                "cancelled",
                name="orderstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "held_from",
            sa.Enum(
                "draft",
                "released",
                "in_progress",
                "completed",
                "closed",
                "on_hold",
                "cancelled",
                name="held_from",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("priority >= 1 AND priority <= 9", name=op.f("ck_orders_work_orders_priority_range")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_work_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_orders_work_orders_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["routing_id"],
            ["orders_routings.id"],
            name=op.f("fk_orders_work_orders_routing_id_orders_routings"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_work_orders_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_work_orders")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_orders_work_orders_tenant_id_number")),
    )
    with op.batch_alter_table("orders_work_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_work_orders_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_orders_routing_id"), ["routing_id"], unique=False)
        batch_op.create_index("ix_orders_work_orders_status", ["tenant_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_orders_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("work_center_id", sa.Integer(), nullable=False),
        sa.Column("setup_minutes", sa.Float(), nullable=False),
        sa.Column("seconds_per_unit", sa.Float(), nullable=False),
        sa.Column("allow_partial", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "paused",
                "completed",
                name="operationstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_since", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("pause_reason_id", sa.Integer(), nullable=True),
        sa.Column("first_started_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accumulated_running_s", sa.Float(), nullable=False),
        sa.Column("accumulated_paused_s", sa.Float(), nullable=False),
        sa.Column("good_qty", sa.Integer(), nullable=False),
        sa.Column("scrap_qty", sa.Integer(), nullable=False),
        sa.Column("rework_qty", sa.Integer(), nullable=False),
        sa.Column("planned_machine_id", sa.Integer(), nullable=True),
        sa.Column("planned_start", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_end", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_sequence", sa.Integer(), nullable=True),
        sa.Column("plan_ref", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "good_qty >= 0 AND scrap_qty >= 0 AND rework_qty >= 0",
            name=op.f("ck_orders_operations_quantities_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_orders_operations_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_work_orders.id"],
            name=op.f("fk_orders_operations_order_id_orders_work_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pause_reason_id"],
            ["platform_reason_codes.id"],
            name=op.f("fk_orders_operations_pause_reason_id_platform_reason_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["planned_machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_orders_operations_planned_machine_id_platform_machines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_operations_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["platform_work_centers.id"],
            name=op.f("fk_orders_operations_work_center_id_platform_work_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_operations")),
        sa.UniqueConstraint("order_id", "sequence", name=op.f("uq_orders_operations_order_id_sequence")),
    )
    with op.batch_alter_table("orders_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_operations_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index("ix_orders_operations_open", ["tenant_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operations_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_operations_planned_machine_id"), ["planned_machine_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_operations_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operations_work_center_id"), ["work_center_id"], unique=False)

    op.create_table(
        "orders_routing_step_machines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("seconds_per_unit", sa.Float(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_orders_routing_step_machines_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["orders_routing_steps.id"],
            name=op.f("fk_orders_routing_step_machines_step_id_orders_routing_steps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_routing_step_machines_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_routing_step_machines")),
        sa.UniqueConstraint("step_id", "machine_id", name=op.f("uq_orders_routing_step_machines_step_id_machine_id")),
    )
    with op.batch_alter_table("orders_routing_step_machines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_routing_step_machines_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_routing_step_machines_step_id"), ["step_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_routing_step_machines_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_operation_crew",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["platform_employees.id"],
            name=op.f("fk_orders_operation_crew_employee_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["orders_operations.id"],
            name=op.f("fk_orders_operation_crew_operation_id_orders_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_operation_crew_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_operation_crew")),
    )
    with op.batch_alter_table("orders_operation_crew", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_operation_crew_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index("ix_orders_operation_crew_open", ["tenant_id", "employee_id", "left_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operation_crew_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operation_crew_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_operation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "start",
                "join",
                "leave",
                "pause",
                "resume",
                "complete",
                name="eventkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("reason_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["platform_employees.id"],
            name=op.f("fk_orders_operation_events_employee_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_orders_operation_events_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["orders_operations.id"],
            name=op.f("fk_orders_operation_events_operation_id_orders_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reason_id"],
            ["platform_reason_codes.id"],
            name=op.f("fk_orders_operation_events_reason_id_platform_reason_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_operation_events_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_operation_events")),
    )
    with op.batch_alter_table("orders_operation_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_operation_events_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operation_events_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_operation_machines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("seconds_per_unit", sa.Float(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_orders_operation_machines_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["orders_operations.id"],
            name=op.f("fk_orders_operation_machines_operation_id_orders_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_operation_machines_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_operation_machines")),
        sa.UniqueConstraint(
            "operation_id", "machine_id", name=op.f("uq_orders_operation_machines_operation_id_machine_id")
        ),
    )
    with op.batch_alter_table("orders_operation_machines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_operation_machines_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operation_machines_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_operation_machines_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "orders_work_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("scrap", sa.Integer(), nullable=False),
        sa.Column("rework", sa.Integer(), nullable=False),
        sa.Column("scrap_reason_id", sa.Integer(), nullable=True),
        sa.Column("rework_reason_id", sa.Integer(), nullable=True),
        sa.Column("output_lot", sa.String(length=64), nullable=True),
        sa.Column("consumed_lots", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "accepted",
                "pending_approval",
                "rejected",
                name="reportstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reported_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "good >= 0 AND scrap >= 0 AND rework >= 0", name=op.f("ck_orders_work_reports_quantities_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["platform_employees.id"],
            name=op.f("fk_orders_work_reports_employee_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_orders_work_reports_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["orders_operations.id"],
            name=op.f("fk_orders_work_reports_operation_id_orders_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_work_orders.id"],
            name=op.f("fk_orders_work_reports_order_id_orders_work_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rework_reason_id"],
            ["platform_reason_codes.id"],
            name=op.f("fk_orders_work_reports_rework_reason_id_platform_reason_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["scrap_reason_id"],
            ["platform_reason_codes.id"],
            name=op.f("fk_orders_work_reports_scrap_reason_id_platform_reason_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_orders_work_reports_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_work_reports")),
    )
    with op.batch_alter_table("orders_work_reports", schema=None) as batch_op:
        batch_op.create_index("ix_orders_work_reports_at", ["tenant_id", "reported_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_reports_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_reports_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_reports_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_reports_output_lot"), ["output_lot"], unique=False)
        batch_op.create_index("ix_orders_work_reports_status", ["tenant_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_work_reports_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders_work_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_work_reports_tenant_id"))
        batch_op.drop_index("ix_orders_work_reports_status")
        batch_op.drop_index(batch_op.f("ix_orders_work_reports_output_lot"))
        batch_op.drop_index(batch_op.f("ix_orders_work_reports_order_id"))
        batch_op.drop_index(batch_op.f("ix_orders_work_reports_operation_id"))
        batch_op.drop_index(batch_op.f("ix_orders_work_reports_employee_id"))
        batch_op.drop_index("ix_orders_work_reports_at")

    op.drop_table("orders_work_reports")
    with op.batch_alter_table("orders_operation_machines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_operation_machines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operation_machines_operation_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operation_machines_machine_id"))

    op.drop_table("orders_operation_machines")
    with op.batch_alter_table("orders_operation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_operation_events_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operation_events_operation_id"))

    op.drop_table("orders_operation_events")
    with op.batch_alter_table("orders_operation_crew", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_operation_crew_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operation_crew_operation_id"))
        batch_op.drop_index("ix_orders_operation_crew_open")
        batch_op.drop_index(batch_op.f("ix_orders_operation_crew_employee_id"))

    op.drop_table("orders_operation_crew")
    with op.batch_alter_table("orders_routing_step_machines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_routing_step_machines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_routing_step_machines_step_id"))
        batch_op.drop_index(batch_op.f("ix_orders_routing_step_machines_machine_id"))

    op.drop_table("orders_routing_step_machines")
    with op.batch_alter_table("orders_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_operations_work_center_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operations_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operations_planned_machine_id"))
        batch_op.drop_index(batch_op.f("ix_orders_operations_order_id"))
        batch_op.drop_index("ix_orders_operations_open")
        batch_op.drop_index(batch_op.f("ix_orders_operations_machine_id"))

    op.drop_table("orders_operations")
    with op.batch_alter_table("orders_work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_work_orders_tenant_id"))
        batch_op.drop_index("ix_orders_work_orders_status")
        batch_op.drop_index(batch_op.f("ix_orders_work_orders_routing_id"))
        batch_op.drop_index(batch_op.f("ix_orders_work_orders_product_id"))

    op.drop_table("orders_work_orders")
    with op.batch_alter_table("orders_routing_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_routing_steps_work_center_id"))
        batch_op.drop_index(batch_op.f("ix_orders_routing_steps_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_routing_steps_routing_id"))

    op.drop_table("orders_routing_steps")
    with op.batch_alter_table("orders_routings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_routings_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_orders_routings_product_id"))

    op.drop_table("orders_routings")
    with op.batch_alter_table("orders_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_settings_tenant_id"))

    op.drop_table("orders_settings")
    with op.batch_alter_table("orders_held_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_held_lots_tenant_id"))
        batch_op.drop_index("ix_orders_held_lots_lot")

    op.drop_table("orders_held_lots")
