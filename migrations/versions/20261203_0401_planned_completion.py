"""orders: planned completion of a work order, written when a schedule is published

Revision ID: 0401
Revises: 0400
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import platform_core.db

revision = "0401"
down_revision = "0400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders_work_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("planned_completion", platform_core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders_work_orders", schema=None) as batch_op:
        batch_op.drop_column("planned_completion")
