"""quality: who proposed an NCR's disposition and who held a lot, as accounts (four eyes)

The approver of a disposition must not be its proposer, and a lot is released by someone other than whoever held
it until a disposition is approved. Display names may repeat, so the accounts are kept beside them. Rows from
before have no account: the rule cannot be applied to them and they behave as before.

Revision ID: 0402
Revises: 0401
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0402"
down_revision = "0401"
branch_labels = None
depends_on = None


# Plain ALTERs rather than batch mode: SQLite (3.35 and later) adds and drops a column in place, whereas a batch
# rebuild drops the old table, and with foreign keys on that deletes the NCRs' actions and photos (ON DELETE CASCADE).


def upgrade() -> None:
    op.add_column("quality_ncrs", sa.Column("proposed_by_actor", sa.String(length=120), nullable=True))
    op.add_column("quality_lot_holds", sa.Column("held_by_actor", sa.String(length=120), nullable=True))


def downgrade() -> None:
    op.drop_column("quality_lot_holds", "held_by_actor")
    op.drop_column("quality_ncrs", "proposed_by_actor")
