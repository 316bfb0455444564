"""equipment: machine states, telemetry and rollups, gateways, alarms, counts, maintenance, OEE figures

Revision ID: 0200
Revises: 0100
Create Date: 2026-11-22 03:51:47.559845
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0200"
down_revision = "0100"
branch_labels = None
depends_on = "0002"  # master data: machines, reason codes


def upgrade() -> None:
    op.create_table(
        "equipment_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("gauge", "counter", name="metrickind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_metrics_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_metrics")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_equipment_metrics_tenant_id_code")),
    )
    with op.batch_alter_table("equipment_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_metrics_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_order_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_order_refs_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_order_refs")),
        sa.UniqueConstraint("tenant_id", "order_id", name=op.f("uq_equipment_order_refs_tenant_id_order_id")),
    )
    with op.batch_alter_table("equipment_order_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_order_refs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_rollups_1h",
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("bucket", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("first", sa.Float(), nullable=False),
        sa.Column("first_ts", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_ts", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_rollups_1h_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("machine_id", "metric_id", "bucket", name=op.f("pk_equipment_rollups_1h")),
    )
    with op.batch_alter_table("equipment_rollups_1h", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_rollups_1h_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_rollups_1m",
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("bucket", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("first", sa.Float(), nullable=False),
        sa.Column("first_ts", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_ts", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_rollups_1m_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("machine_id", "metric_id", "bucket", name=op.f("pk_equipment_rollups_1m")),
    )
    with op.batch_alter_table("equipment_rollups_1m", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_rollups_1m_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_telemetry",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("ts", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_telemetry_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("machine_id", "metric_id", "ts", name=op.f("pk_equipment_telemetry")),
    )
    op.create_table(
        "equipment_tenant_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("raw_retention_days", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_tenant_settings_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_tenant_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_equipment_tenant_settings_tenant_id")),
    )
    with op.batch_alter_table("equipment_tenant_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_tenant_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("points_accepted", sa.BigInteger(), nullable=False),
        sa.Column("points_duplicate", sa.BigInteger(), nullable=False),
        sa.Column("points_rejected", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_error_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_gateways_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["platform_api_tokens.id"],
            name=op.f("fk_equipment_gateways_token_id_platform_api_tokens"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_gateways")),
        sa.UniqueConstraint("prefix", name=op.f("uq_equipment_gateways_prefix")),
        sa.UniqueConstraint("token_id", name=op.f("uq_equipment_gateways_token_id")),
    )
    with op.batch_alter_table("equipment_gateways", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_gateways_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_alarm_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "high",
                "low",
                "rate",
                "stale",
                "state",
                "trend",
                "anomaly",
                name="rulekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("machine_model", sa.String(length=100), nullable=True),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "idle",
                "setup",
                "down",
                "maintenance",
                "offline",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("hysteresis", sa.Float(), nullable=False),
        sa.Column("min_duration_s", sa.Integer(), nullable=False),
        sa.Column("lead_time_h", sa.Float(), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "info", "warning", "critical", name="severity", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(machine_id IS NULL) <> (machine_model IS NULL)", name=op.f("ck_equipment_alarm_rules_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_alarm_rules_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["equipment_metrics.id"],
            name=op.f("fk_equipment_alarm_rules_metric_id_equipment_metrics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_alarm_rules_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_alarm_rules")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_equipment_alarm_rules_tenant_id_code")),
    )
    with op.batch_alter_table("equipment_alarm_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_alarm_rules_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_alarm_rules_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("good", sa.Float(), nullable=False),
        sa.Column("scrap", sa.Float(), nullable=False),
        sa.Column("rework", sa.Float(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_counts_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_counts_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_counts")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_equipment_counts_tenant_id_event_id")),
    )
    with op.batch_alter_table("equipment_counts", schema=None) as batch_op:
        batch_op.create_index("ix_equipment_counts_machine_at", ["machine_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_counts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_machine_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("run_metric_id", sa.Integer(), nullable=True),
        sa.Column("run_above", sa.Double(), nullable=False),
        sa.Column("count_metric_id", sa.Integer(), nullable=True),
        sa.Column("offline_after_s", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["count_metric_id"],
            ["equipment_metrics.id"],
            name=op.f("fk_equipment_machine_configs_count_metric_id_equipment_metrics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_machine_configs_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_metric_id"],
            ["equipment_metrics.id"],
            name=op.f("fk_equipment_machine_configs_run_metric_id_equipment_metrics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_machine_configs_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_machine_configs")),
        sa.UniqueConstraint("machine_id", name=op.f("uq_equipment_machine_configs_machine_id")),
    )
    with op.batch_alter_table("equipment_machine_configs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_machine_configs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_machine_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "idle",
                "setup",
                "down",
                "maintenance",
                "offline",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("since", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("open_interval_id", sa.Integer(), nullable=True),
        sa.Column(
            "manual",
            sa.Enum(
                "running",
                "idle",
                "setup",
                "down",
                "maintenance",
                "offline",
                name="manual",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("active_operations", sa.JSON(), nullable=False),
        sa.Column("setup_operations", sa.JSON(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column(
            "telemetry_state",
            sa.Enum(
                "running",
                "idle",
                "setup",
                "down",
                "maintenance",
                "offline",
                name="telemetry_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("telemetry_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("idle_candidate_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_data_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_machine_status_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_machine_status_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_machine_status")),
        sa.UniqueConstraint("machine_id", name=op.f("uq_equipment_machine_status_machine_id")),
    )
    with op.batch_alter_table("equipment_machine_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_machine_status_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_maintenance_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=True),
        sa.Column("machine_model", sa.String(length=100), nullable=True),
        sa.Column(
            "trigger",
            sa.Enum(
                "calendar",
                "running_hours",
                "count",
                name="plantrigger",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("interval", sa.Float(), nullable=False),
        sa.Column("lead", sa.Float(), nullable=False),
        sa.Column("tolerance", sa.Float(), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("blocks_machine", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(machine_id IS NULL) <> (machine_model IS NULL)", name=op.f("ck_equipment_maintenance_plans_one_scope")
        ),
        sa.CheckConstraint(
            "interval > 0 AND lead >= 0 AND tolerance >= 0", name=op.f("ck_equipment_maintenance_plans_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_maintenance_plans_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_maintenance_plans_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_maintenance_plans")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_equipment_maintenance_plans_tenant_id_code")),
    )
    with op.batch_alter_table("equipment_maintenance_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_maintenance_plans_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_maintenance_plans_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_shift_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("shift_code", sa.String(length=16), nullable=False),
        sa.Column("shift_date", sa.Date(), nullable=False),
        sa.Column("start", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_shift_stats_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_shift_stats_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_shift_stats")),
        sa.UniqueConstraint("machine_id", "start", name=op.f("uq_equipment_shift_stats_machine_id_start")),
    )
    with op.batch_alter_table("equipment_shift_stats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_shift_stats_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_equipment_shift_stats_tenant_start", ["tenant_id", "start"], unique=False)

    op.create_table(
        "equipment_state_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "idle",
                "setup",
                "down",
                "maintenance",
                "offline",
                name="state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "operator",
                "orders",
                "telemetry",
                "maintenance",
                name="statesource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("expected_up_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_by", sa.String(length=120), nullable=True),
        sa.Column("classified_by", sa.String(length=120), nullable=True),
        sa.Column("classified_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at > started_at", name=op.f("ck_equipment_state_intervals_positive_length")
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_state_intervals_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reason_id"],
            ["platform_reason_codes.id"],
            name=op.f("fk_equipment_state_intervals_reason_id_platform_reason_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_state_intervals_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_state_intervals")),
    )
    with op.batch_alter_table("equipment_state_intervals", schema=None) as batch_op:
        batch_op.create_index("ix_equipment_state_intervals_machine_start", ["machine_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_state_intervals_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "uq_equipment_state_intervals_open",
            ["machine_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "equipment_alarm_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("condition_since", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ts", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_alarm_tracks_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["equipment_alarm_rules.id"],
            name=op.f("fk_equipment_alarm_tracks_rule_id_equipment_alarm_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_alarm_tracks_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_alarm_tracks")),
        sa.UniqueConstraint("rule_id", "machine_id", name=op.f("uq_equipment_alarm_tracks_rule_id_machine_id")),
    )
    with op.batch_alter_table("equipment_alarm_tracks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_alarm_tracks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "acknowledged",
                "cleared",
                name="alarmstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "info", "warning", "critical", name="severity", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("raised_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("cleared_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=120), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_alarms_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["equipment_alarm_rules.id"],
            name=op.f("fk_equipment_alarms_rule_id_equipment_alarm_rules"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_alarms_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_alarms")),
    )
    with op.batch_alter_table("equipment_alarms", schema=None) as batch_op:
        batch_op.create_index("ix_equipment_alarms_machine_status", ["machine_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_alarms_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "uq_equipment_alarms_open",
            ["rule_id", "machine_id"],
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )

    op.create_table(
        "equipment_plan_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("baseline_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cycles", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_plan_progress_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["equipment_maintenance_plans.id"],
            name=op.f("fk_equipment_plan_progress_plan_id_equipment_maintenance_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_plan_progress_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_plan_progress")),
        sa.UniqueConstraint("plan_id", "machine_id", name=op.f("uq_equipment_plan_progress_plan_id_machine_id")),
    )
    with op.batch_alter_table("equipment_plan_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_plan_progress_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "equipment_maintenance_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=True),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "preventive",
                "predictive",
                "corrective",
                name="maintenancekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "completed",
                "cancelled",
                name="maintenancestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_start", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_end", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocks_machine", sa.Boolean(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("parts_used", sa.JSON(), nullable=False),
        sa.Column("time_spent_min", sa.Integer(), nullable=True),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=120), nullable=True),
        sa.Column("completed_at", platform_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=120), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["equipment_alarms.id"],
            name=op.f("fk_equipment_maintenance_orders_alarm_id_equipment_alarms"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["platform_machines.id"],
            name=op.f("fk_equipment_maintenance_orders_machine_id_platform_machines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["equipment_maintenance_plans.id"],
            name=op.f("fk_equipment_maintenance_orders_plan_id_equipment_maintenance_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_equipment_maintenance_orders_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_maintenance_orders")),
        sa.UniqueConstraint("alarm_id", name=op.f("uq_equipment_maintenance_orders_alarm_id")),
        sa.UniqueConstraint(
            "plan_id", "machine_id", "cycle", name=op.f("uq_equipment_maintenance_orders_plan_id_machine_id_cycle")
        ),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_equipment_maintenance_orders_tenant_id_number")),
    )
    with op.batch_alter_table("equipment_maintenance_orders", schema=None) as batch_op:
        batch_op.create_index("ix_equipment_maintenance_orders_machine_status", ["machine_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_maintenance_orders_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("equipment_maintenance_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_maintenance_orders_tenant_id"))
        batch_op.drop_index("ix_equipment_maintenance_orders_machine_status")

    op.drop_table("equipment_maintenance_orders")
    with op.batch_alter_table("equipment_plan_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_plan_progress_tenant_id"))

    op.drop_table("equipment_plan_progress")
    with op.batch_alter_table("equipment_alarms", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_equipment_alarms_open",
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_equipment_alarms_tenant_id"))
        batch_op.drop_index("ix_equipment_alarms_machine_status")

    op.drop_table("equipment_alarms")
    with op.batch_alter_table("equipment_alarm_tracks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_alarm_tracks_tenant_id"))

    op.drop_table("equipment_alarm_tracks")
    with op.batch_alter_table("equipment_state_intervals", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_equipment_state_intervals_open",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_equipment_state_intervals_tenant_id"))
        batch_op.drop_index("ix_equipment_state_intervals_machine_start")

    op.drop_table("equipment_state_intervals")
    with op.batch_alter_table("equipment_shift_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_equipment_shift_stats_tenant_start")
        batch_op.drop_index(batch_op.f("ix_equipment_shift_stats_tenant_id"))

    op.drop_table("equipment_shift_stats")
    with op.batch_alter_table("equipment_maintenance_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_maintenance_plans_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_maintenance_plans_machine_id"))

    op.drop_table("equipment_maintenance_plans")
    with op.batch_alter_table("equipment_machine_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_machine_status_tenant_id"))

    op.drop_table("equipment_machine_status")
    with op.batch_alter_table("equipment_machine_configs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_machine_configs_tenant_id"))

    op.drop_table("equipment_machine_configs")
    with op.batch_alter_table("equipment_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_counts_tenant_id"))
        batch_op.drop_index("ix_equipment_counts_machine_at")

    op.drop_table("equipment_counts")
    with op.batch_alter_table("equipment_alarm_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_alarm_rules_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_alarm_rules_machine_id"))

    op.drop_table("equipment_alarm_rules")
    with op.batch_alter_table("equipment_gateways", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_gateways_tenant_id"))

    op.drop_table("equipment_gateways")
    with op.batch_alter_table("equipment_tenant_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_tenant_settings_tenant_id"))

    op.drop_table("equipment_tenant_settings")
    op.drop_table("equipment_telemetry")
    with op.batch_alter_table("equipment_rollups_1m", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_rollups_1m_tenant_id"))

    op.drop_table("equipment_rollups_1m")
    with op.batch_alter_table("equipment_rollups_1h", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_rollups_1h_tenant_id"))

    op.drop_table("equipment_rollups_1h")
    with op.batch_alter_table("equipment_order_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_order_refs_tenant_id"))

    op.drop_table("equipment_order_refs")
    with op.batch_alter_table("equipment_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_metrics_tenant_id"))

    op.drop_table("equipment_metrics")
