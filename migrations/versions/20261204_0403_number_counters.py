"""platform: one counter per factory and kind of record number

Inspection, NCR, task, work-order, maintenance-order and scheduling-run numbers were read as the highest in use
plus one, so two records saved at the same moment drew the same number and one of them was refused. The counter
starts from the highest number in use the first time a number of its kind is drawn, so no backfill is needed.

Revision ID: 0403
Revises: 0402
Create Date: 2026-12-04 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0403"
down_revision = "0402"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_number_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["platform_tenants.id"],
            name=op.f("fk_platform_number_counters_tenant_id_platform_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_number_counters")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_platform_number_counters_tenant_id_name")),
    )
    op.create_index(op.f("ix_platform_number_counters_tenant_id"), "platform_number_counters", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_platform_number_counters_tenant_id"), table_name="platform_number_counters")
    op.drop_table("platform_number_counters")
