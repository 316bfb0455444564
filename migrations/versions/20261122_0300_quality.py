"""quality: plans, tasks, inspections, SPC, NCRs, lot genealogy

Revision ID: 0300
Revises: 0200
Create Date: 2026-11-22 03:22:25.503192
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0300"
down_revision = "0200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ncr_from_scrap", sa.Boolean(), nullable=False),
        sa.Column("scrap_ncr_minimum", sa.Integer(), nullable=False),
        sa.Column("photo_max_kb", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_settings_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_quality_settings_tenant_id")),
    )
    with op.batch_alter_table("quality_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_charts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("characteristic_code", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "chart_type",
            sa.Enum(
                "xbar_r",
                "xbar_s",
                "imr",
                "p",
                "np",
                "c",
                "u",
                name="charttype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subgroup_size", sa.Integer(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_charts_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_charts_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_charts")),
        sa.UniqueConstraint(
            "tenant_id",
            "plan_code",
            "characteristic_code",
            name=op.f("uq_quality_charts_tenant_id_plan_code_characteristic_code"),
        ),
    )
    with op.batch_alter_table("quality_charts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_charts_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_charts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_lots_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_lots_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_lots")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_quality_lots_tenant_id_code")),
    )
    with op.batch_alter_table("quality_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_lots_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_lots_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("work_center_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_operations_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["platform_work_centers.id"],
            name=op.f("fk_quality_operations_work_center_id_platform_work_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_operations")),
        sa.UniqueConstraint("tenant_id", "operation_id", name=op.f("uq_quality_operations_tenant_id_operation_id")),
    )
    with op.batch_alter_table("quality_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_operations_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_operations_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_operations_work_center_id"), ["work_center_id"], unique=False)

    op.create_table(
        "quality_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("released_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_orders_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_orders_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_orders")),
        sa.UniqueConstraint("tenant_id", "order_id", name=op.f("uq_quality_orders_tenant_id_order_id")),
    )
    with op.batch_alter_table("quality_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_orders_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_orders_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("operation_sequence", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "superseded",
                "retired",
                name="planstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_plans_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_plans_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_plans")),
        sa.UniqueConstraint("tenant_id", "code", "version", name=op.f("uq_quality_plans_tenant_id_code_version")),
    )
    with op.batch_alter_table("quality_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_plans_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_plans_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_product_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("unit_cost >= 0", name=op.f("ck_quality_product_costs_cost_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_product_costs_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_product_costs_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_product_costs")),
        sa.UniqueConstraint("tenant_id", "product_id", name=op.f("uq_quality_product_costs_tenant_id_product_id")),
    )
    with op.batch_alter_table("quality_product_costs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_product_costs_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_product_costs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_characteristics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "variable", "attribute", name="characteristickind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("nominal", sa.Float(), nullable=True),
        sa.Column("lsl", sa.Float(), nullable=True),
        sa.Column("usl", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("gauge", sa.String(length=100), nullable=True),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("defect_codes", sa.JSON(), nullable=False),
        sa.Column("accept_number", sa.Integer(), nullable=False),
        sa.Column(
            "chart_type",
            sa.Enum(
                "xbar_r",
                "xbar_s",
                "imr",
                "p",
                "np",
                "c",
                "u",
                name="charttype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("subgroup_size", sa.Integer(), nullable=True),
        sa.Column("chart_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lsl IS NULL OR usl IS NULL OR lsl < usl", name=op.f("ck_quality_characteristics_spec_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["chart_id"],
            ["quality_charts.id"],
            name=op.f("fk_quality_characteristics_chart_id_quality_charts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["quality_plans.id"],
            name=op.f("fk_quality_characteristics_plan_id_quality_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_characteristics_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_characteristics")),
        sa.UniqueConstraint("plan_id", "code", name=op.f("uq_quality_characteristics_plan_id_code")),
    )
    with op.batch_alter_table("quality_characteristics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_characteristics_chart_id"), ["chart_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_characteristics_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_characteristics_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_chart_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chart_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "chart_type",
            sa.Enum(
                "xbar_r",
                "xbar_s",
                "imr",
                "p",
                "np",
                "c",
                "u",
                name="charttype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("center", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=False),
        sa.Column("ucl", sa.Float(), nullable=False),
        sa.Column("lcl", sa.Float(), nullable=False),
        sa.Column("second_center", sa.Float(), nullable=True),
        sa.Column("second_ucl", sa.Float(), nullable=True),
        sa.Column("second_lcl", sa.Float(), nullable=True),
        sa.Column("process_sigma", sa.Float(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("baseline_from", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("baseline_to", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("computed_by", sa.String(length=120), nullable=False),
        sa.Column("computed_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chart_id"],
            ["quality_charts.id"],
            name=op.f("fk_quality_chart_limits_chart_id_quality_charts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_chart_limits_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_chart_limits")),
        sa.UniqueConstraint("chart_id", "version", name=op.f("uq_quality_chart_limits_chart_id_version")),
    )
    with op.batch_alter_table("quality_chart_limits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_chart_limits_chart_id"), ["chart_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_chart_limits_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_lot_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("parent_id <> child_id", name=op.f("ck_quality_lot_links_not_itself")),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["quality_lots.id"],
            name=op.f("fk_quality_lot_links_child_id_quality_lots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["quality_lots.id"],
            name=op.f("fk_quality_lot_links_parent_id_quality_lots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_lot_links_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_lot_links")),
        sa.UniqueConstraint(
            "tenant_id", "parent_id", "child_id", name=op.f("uq_quality_lot_links_tenant_id_parent_id_child_id")
        ),
    )
    with op.batch_alter_table("quality_lot_links", schema=None) as batch_op:
        batch_op.create_index("ix_quality_lot_links_child", ["tenant_id", "child_id", "parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_lot_links_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_production_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("operation_sequence", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("output_lot_id", sa.Integer(), nullable=True),
        sa.Column("consumed", sa.JSON(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("scrap", sa.Integer(), nullable=False),
        sa.Column("rework", sa.Integer(), nullable=False),
        sa.Column("scrap_reason_code", sa.String(length=32), nullable=True),
        sa.Column("reported_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["platform_employees.id"],
            name=op.f("fk_quality_production_records_employee_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_quality_production_records_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["output_lot_id"],
            ["quality_lots.id"],
            name=op.f("fk_quality_production_records_output_lot_id_quality_lots"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_production_records_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_production_records_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_production_records")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_quality_production_records_tenant_id_event_id")),
    )
    with op.batch_alter_table("quality_production_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_production_records_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_production_records_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_production_records_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_production_records_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_production_records_output_lot_id"), ["output_lot_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quality_production_records_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_production_records_reported_at"), ["reported_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_production_records_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_sampling_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "first_of_shift",
                "first_of_order",
                "every_n",
                "per_lot",
                "percent",
                "incoming",
                name="samplingkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("every_n", sa.Integer(), nullable=True),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("due_minutes", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["quality_plans.id"],
            name=op.f("fk_quality_sampling_rules_plan_id_quality_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_sampling_rules_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_sampling_rules")),
    )
    with op.batch_alter_table("quality_sampling_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_sampling_rules_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_sampling_rules_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("trigger_key", sa.String(length=120), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "done", "cancelled", name="taskstatus", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("operation_sequence", sa.Integer(), nullable=True),
        sa.Column("work_center_id", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("due_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["quality_lots.id"], name=op.f("fk_quality_tasks_lot_id_quality_lots"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_quality_tasks_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["platform_employees.id"],
            name=op.f("fk_quality_tasks_operator_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["quality_plans.id"], name=op.f("fk_quality_tasks_plan_id_quality_plans"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_tasks_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["quality_sampling_rules.id"],
            name=op.f("fk_quality_tasks_rule_id_quality_sampling_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_tasks_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["platform_work_centers.id"],
            name=op.f("fk_quality_tasks_work_center_id_platform_work_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_tasks")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_quality_tasks_tenant_id_number")),
    )
    with op.batch_alter_table("quality_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_tasks_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index("ix_quality_tasks_open", ["tenant_id", "status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_tasks_work_center_id"), ["work_center_id"], unique=False)
        batch_op.create_index("uq_quality_tasks_trigger", ["tenant_id", "plan_id", "trigger_key"], unique=True)

    op.create_table(
        "quality_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("submission", sa.String(length=64), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("passed", "failed", name="inspectionstatus", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("operation_sequence", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("inspector_name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("inspected_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["platform_users.id"],
            name=op.f("fk_quality_inspections_inspector_id_platform_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["quality_lots.id"],
            name=op.f("fk_quality_inspections_lot_id_quality_lots"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_quality_inspections_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["platform_employees.id"],
            name=op.f("fk_quality_inspections_operator_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["quality_plans.id"],
            name=op.f("fk_quality_inspections_plan_id_quality_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_inspections_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["quality_tasks.id"],
            name=op.f("fk_quality_inspections_task_id_quality_tasks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_inspections_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_inspections")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_quality_inspections_tenant_id_number")),
        sa.UniqueConstraint("tenant_id", "submission", name=op.f("uq_quality_inspections_tenant_id_submission")),
    )
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_inspections_inspected_at"), ["inspected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_inspector_id"), ["inspector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_ncrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "inspection", "scrap", "manual", name="ncrsource", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "proposed",
                "dispositioned",
                "closed",
                "cancelled",
                name="ncrstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("defect_codes", sa.JSON(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("operation_sequence", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("raised_by", sa.String(length=120), nullable=False),
        sa.Column("raised_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "disposition",
            sa.Enum(
                "rework",
                "scrap",
                "use_as_is",
                "return_to_supplier",
                name="disposition",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("disposition_note", sa.String(length=1000), nullable=True),
        sa.Column("proposed_by", sa.String(length=120), nullable=True),
        sa.Column("proposed_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("approved_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_quality_ncrs_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name=op.f("fk_quality_ncrs_inspection_id_quality_inspections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["quality_lots.id"], name=op.f("fk_quality_ncrs_lot_id_quality_lots"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_quality_ncrs_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["platform_employees.id"],
            name=op.f("fk_quality_ncrs_operator_id_platform_employees"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["platform_products.id"],
            name=op.f("fk_quality_ncrs_product_id_platform_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_ncrs_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_ncrs")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_quality_ncrs_tenant_id_event_id")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_quality_ncrs_tenant_id_number")),
    )
    with op.batch_alter_table("quality_ncrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_ncrs_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncrs_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncrs_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncrs_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncrs_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncrs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("characteristic_id", sa.Integer(), nullable=False),
        sa.Column("chart_id", sa.Integer(), nullable=True),
        sa.Column("inspected_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("inspected", sa.Integer(), nullable=True),
        sa.Column("defectives", sa.Integer(), nullable=True),
        sa.Column("defects", sa.Integer(), nullable=True),
        sa.Column("defect_counts", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["characteristic_id"],
            ["quality_characteristics.id"],
            name=op.f("fk_quality_results_characteristic_id_quality_characteristics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chart_id"],
            ["quality_charts.id"],
            name=op.f("fk_quality_results_chart_id_quality_charts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name=op.f("fk_quality_results_inspection_id_quality_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_results_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_results")),
        sa.UniqueConstraint(
            "inspection_id", "characteristic_id", name=op.f("uq_quality_results_inspection_id_characteristic_id")
        ),
    )
    with op.batch_alter_table("quality_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_results_characteristic_id"), ["characteristic_id"], unique=False)
        batch_op.create_index("ix_quality_results_chart", ["chart_id", "inspected_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_results_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_results_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chart_id", sa.Integer(), nullable=False),
        sa.Column("characteristic_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=True),
        sa.Column("first_result_id", sa.Integer(), nullable=False),
        sa.Column("last_result_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "acknowledged", name="alarmstatus", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("raised_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("point_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["characteristic_id"],
            ["quality_characteristics.id"],
            name=op.f("fk_quality_alarms_characteristic_id_quality_characteristics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chart_id"],
            ["quality_charts.id"],
            name=op.f("fk_quality_alarms_chart_id_quality_charts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["first_result_id"],
            ["quality_results.id"],
            name=op.f("fk_quality_alarms_first_result_id_quality_results"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["last_result_id"],
            ["quality_results.id"],
            name=op.f("fk_quality_alarms_last_result_id_quality_results"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["quality_lots.id"], name=op.f("fk_quality_alarms_lot_id_quality_lots"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_quality_alarms_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_alarms_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_alarms")),
    )
    with op.batch_alter_table("quality_alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_alarms_characteristic_id"), ["characteristic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_alarms_chart_id"), ["chart_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_alarms_first_result_id"), ["first_result_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_alarms_last_result_id"), ["last_result_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_alarms_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_alarms_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index("ix_quality_alarms_open", ["tenant_id", "status", "raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_alarms_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("ncr_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "inspection_id IS NOT NULL OR ncr_id IS NOT NULL", name=op.f("ck_quality_attachments_has_owner")
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_quality_attachments_not_empty")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name=op.f("fk_quality_attachments_inspection_id_quality_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ncr_id"], ["quality_ncrs.id"], name=op.f("fk_quality_attachments_ncr_id_quality_ncrs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_attachments_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_attachments")),
    )
    with op.batch_alter_table("quality_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_attachments_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_attachments_ncr_id"), ["ncr_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_attachments_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_lot_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("ncr_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("held_by", sa.String(length=120), nullable=False),
        sa.Column("held_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=120), nullable=True),
        sa.Column("released_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("release_note", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["quality_lots.id"], name=op.f("fk_quality_lot_holds_lot_id_quality_lots"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["ncr_id"], ["quality_ncrs.id"], name=op.f("fk_quality_lot_holds_ncr_id_quality_ncrs"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_lot_holds_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_lot_holds")),
        sa.UniqueConstraint("lot_id", "ncr_id", name=op.f("uq_quality_lot_holds_lot_id_ncr_id")),
    )
    with op.batch_alter_table("quality_lot_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_lot_holds_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_lot_holds_ncr_id"), ["ncr_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_lot_holds_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_ncr_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ncr_id", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "containment",
                "cause",
                "corrective",
                "preventive",
                "verification",
                name="actionstep",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "done", name="actionstatus", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("result", sa.String(length=1000), nullable=True),
        sa.Column("done_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ncr_id"], ["quality_ncrs.id"], name=op.f("fk_quality_ncr_actions_ncr_id_quality_ncrs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["platform_users.id"],
            name=op.f("fk_quality_ncr_actions_owner_id_platform_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_quality_ncr_actions_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_ncr_actions")),
    )
    with op.batch_alter_table("quality_ncr_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_ncr_actions_ncr_id"), ["ncr_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncr_actions_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_ncr_actions_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quality_ncr_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_ncr_actions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncr_actions_owner_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncr_actions_ncr_id"))

    op.drop_table("quality_ncr_actions")
    with op.batch_alter_table("quality_lot_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_lot_holds_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_lot_holds_ncr_id"))
        batch_op.drop_index(batch_op.f("ix_quality_lot_holds_lot_id"))

    op.drop_table("quality_lot_holds")
    with op.batch_alter_table("quality_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_attachments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_attachments_ncr_id"))
        batch_op.drop_index(batch_op.f("ix_quality_attachments_inspection_id"))

    op.drop_table("quality_attachments")
    with op.batch_alter_table("quality_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_alarms_tenant_id"))
        batch_op.drop_index("ix_quality_alarms_open")
        batch_op.drop_index(batch_op.f("ix_quality_alarms_machine_id"))
        batch_op.drop_index(batch_op.f("ix_quality_alarms_lot_id"))
        batch_op.drop_index(batch_op.f("ix_quality_alarms_last_result_id"))
        batch_op.drop_index(batch_op.f("ix_quality_alarms_first_result_id"))
        batch_op.drop_index(batch_op.f("ix_quality_alarms_chart_id"))
        batch_op.drop_index(batch_op.f("ix_quality_alarms_characteristic_id"))

    op.drop_table("quality_alarms")
    with op.batch_alter_table("quality_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_results_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_results_inspection_id"))
        batch_op.drop_index("ix_quality_results_chart")
        batch_op.drop_index(batch_op.f("ix_quality_results_characteristic_id"))

    op.drop_table("quality_results")
    with op.batch_alter_table("quality_ncrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_product_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_operator_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_machine_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_lot_id"))
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_inspection_id"))

    op.drop_table("quality_ncrs")
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_inspections_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_task_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_product_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_plan_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_order_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_operator_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_machine_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_lot_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_inspector_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_inspected_at"))

    op.drop_table("quality_inspections")
    with op.batch_alter_table("quality_tasks", schema=None) as batch_op:
        batch_op.drop_index("uq_quality_tasks_trigger")
        batch_op.drop_index(batch_op.f("ix_quality_tasks_work_center_id"))
        batch_op.drop_index(batch_op.f("ix_quality_tasks_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_tasks_rule_id"))
        batch_op.drop_index(batch_op.f("ix_quality_tasks_product_id"))
        batch_op.drop_index(batch_op.f("ix_quality_tasks_plan_id"))
        batch_op.drop_index(batch_op.f("ix_quality_tasks_operator_id"))
        batch_op.drop_index("ix_quality_tasks_open")
        batch_op.drop_index(batch_op.f("ix_quality_tasks_machine_id"))
        batch_op.drop_index(batch_op.f("ix_quality_tasks_lot_id"))

    op.drop_table("quality_tasks")
    with op.batch_alter_table("quality_sampling_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_sampling_rules_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_sampling_rules_plan_id"))

    op.drop_table("quality_sampling_rules")
    with op.batch_alter_table("quality_production_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_production_records_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_reported_at"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_product_id"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_output_lot_id"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_order_id"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_operation_id"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_machine_id"))
        batch_op.drop_index(batch_op.f("ix_quality_production_records_employee_id"))

    op.drop_table("quality_production_records")
    with op.batch_alter_table("quality_lot_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_lot_links_tenant_id"))
        batch_op.drop_index("ix_quality_lot_links_child")

    op.drop_table("quality_lot_links")
    with op.batch_alter_table("quality_chart_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_chart_limits_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_chart_limits_chart_id"))

    op.drop_table("quality_chart_limits")
    with op.batch_alter_table("quality_characteristics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_characteristics_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_characteristics_plan_id"))
        batch_op.drop_index(batch_op.f("ix_quality_characteristics_chart_id"))

    op.drop_table("quality_characteristics")
    with op.batch_alter_table("quality_product_costs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_product_costs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_product_costs_product_id"))

    op.drop_table("quality_product_costs")
    with op.batch_alter_table("quality_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_plans_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_plans_product_id"))

    op.drop_table("quality_plans")
    with op.batch_alter_table("quality_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_orders_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_orders_product_id"))

    op.drop_table("quality_orders")
    with op.batch_alter_table("quality_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_operations_work_center_id"))
        batch_op.drop_index(batch_op.f("ix_quality_operations_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_operations_order_id"))

    op.drop_table("quality_operations")
    with op.batch_alter_table("quality_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_lots_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_lots_product_id"))

    op.drop_table("quality_lots")
    with op.batch_alter_table("quality_charts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_charts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_charts_product_id"))

    op.drop_table("quality_charts")
    with op.batch_alter_table("quality_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_settings_tenant_id"))

    op.drop_table("quality_settings")
