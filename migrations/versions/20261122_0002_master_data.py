"""master data: work centers, machines, units, product families, products, shift calendars, reason codes

Adds the active flag to workshops and skills to employees.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:40:33.315005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0002"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_product_families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_product_families_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_product_families")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_platform_product_families_tenant_id_code")),
    )
    with op.batch_alter_table("platform_product_families", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_product_families_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "platform_reason_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "downtime",
                "pause",
                "scrap",
                "rework",
                name="reasonkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("icon", sa.String(length=16), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["platform_reason_codes.id"],
            name=op.f("fk_platform_reason_codes_parent_id_platform_reason_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_reason_codes_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_reason_codes")),
        sa.UniqueConstraint("tenant_id", "kind", "code", name=op.f("uq_platform_reason_codes_tenant_id_kind_code")),
    )
    with op.batch_alter_table("platform_reason_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_reason_codes_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_reason_codes_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "platform_shift_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_shift_calendars_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_shift_calendars")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_platform_shift_calendars_tenant_id_code")),
    )
    with op.batch_alter_table("platform_shift_calendars", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_shift_calendars_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "platform_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("decimals", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("decimals >= 0 AND decimals <= 6", name=op.f("ck_platform_units_decimals_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_units_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_units")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_platform_units_tenant_id_code")),
    )
    with op.batch_alter_table("platform_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_units_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "platform_calendar_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "holiday",
                "shutdown",
                "overtime",
                name="exceptionkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_platform_calendar_exceptions_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["platform_shift_calendars.id"],
            name=op.f("fk_platform_calendar_exceptions_calendar_id_platform_shift_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_calendar_exceptions_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_calendar_exceptions")),
    )
    with op.batch_alter_table("platform_calendar_exceptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_calendar_exceptions_calendar_id"), ["calendar_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_calendar_exceptions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "platform_calendar_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("breaks", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["platform_shift_calendars.id"],
            name=op.f("fk_platform_calendar_shifts_calendar_id_platform_shift_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_calendar_shifts_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_calendar_shifts")),
        sa.UniqueConstraint("calendar_id", "code", name=op.f("uq_platform_calendar_shifts_calendar_id_code")),
    )
    with op.batch_alter_table("platform_calendar_shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_calendar_shifts_calendar_id"), ["calendar_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_calendar_shifts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "platform_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("drawing_no", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["platform_product_families.id"],
            name=op.f("fk_platform_products_family_id_platform_product_families"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_products_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["platform_units.id"],
            name=op.f("fk_platform_products_unit_id_platform_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_products")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_platform_products_tenant_id_code")),
    )
    with op.batch_alter_table("platform_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_products_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_products_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_products_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "platform_work_centers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("workshop_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["platform_shift_calendars.id"],
            name=op.f("fk_platform_work_centers_calendar_id_platform_shift_calendars"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_work_centers_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["platform_workshops.id"],
            name=op.f("fk_platform_work_centers_workshop_id_platform_workshops"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_work_centers")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_platform_work_centers_tenant_id_code")),
    )
    with op.batch_alter_table("platform_work_centers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_work_centers_calendar_id"), ["calendar_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_work_centers_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_work_centers_workshop_id"), ["workshop_id"], unique=False)

    op.create_table(
        "platform_machines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("work_center_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("ideal_cycle_time_s", sa.Float(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", platform_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("ideal_cycle_time_s > 0", name=op.f("ck_platform_machines_cycle_time_positive")),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["platform_shift_calendars.id"],
            name=op.f("fk_platform_machines_calendar_id_platform_shift_calendars"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_machines_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["platform_work_centers.id"],
            name=op.f("fk_platform_machines_work_center_id_platform_work_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_machines")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_platform_machines_tenant_id_code")),
    )
    with op.batch_alter_table("platform_machines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_machines_calendar_id"), ["calendar_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_machines_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platform_machines_work_center_id"), ["work_center_id"], unique=False)

    with op.batch_alter_table("platform_employees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skills", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))

    with op.batch_alter_table("platform_workshops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("platform_workshops", schema=None) as batch_op:
        batch_op.drop_column("active")

    with op.batch_alter_table("platform_employees", schema=None) as batch_op:
        batch_op.drop_column("skills")

    with op.batch_alter_table("platform_machines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_machines_work_center_id"))
        batch_op.drop_index(batch_op.f("ix_platform_machines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_machines_calendar_id"))

    op.drop_table("platform_machines")
    with op.batch_alter_table("platform_work_centers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_work_centers_workshop_id"))
        batch_op.drop_index(batch_op.f("ix_platform_work_centers_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_work_centers_calendar_id"))

    op.drop_table("platform_work_centers")
    with op.batch_alter_table("platform_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_products_unit_id"))
        batch_op.drop_index(batch_op.f("ix_platform_products_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_products_family_id"))

    op.drop_table("platform_products")
    with op.batch_alter_table("platform_calendar_shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_calendar_shifts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_calendar_shifts_calendar_id"))

    op.drop_table("platform_calendar_shifts")
    with op.batch_alter_table("platform_calendar_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_calendar_exceptions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_calendar_exceptions_calendar_id"))

    op.drop_table("platform_calendar_exceptions")
    with op.batch_alter_table("platform_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_units_tenant_id"))

    op.drop_table("platform_units")
    with op.batch_alter_table("platform_shift_calendars", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_shift_calendars_tenant_id"))

    op.drop_table("platform_shift_calendars")
    with op.batch_alter_table("platform_reason_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_reason_codes_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_platform_reason_codes_parent_id"))

    op.drop_table("platform_reason_codes")
    with op.batch_alter_table("platform_product_families", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_product_families_tenant_id"))

    op.drop_table("platform_product_families")
