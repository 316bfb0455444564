"""The demo factory's orders: every status, a history for the KPIs, and quantities that obey the app's own rules."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from apps.orders import execution, lots, planning, supervision
from apps.orders.models import Operation, OperationStatus, OrderStatus, ReportStatus, Routing, WorkOrder, WorkReport
from platform_core.db import tenant_context
from platform_core.demo import seed_demo


def test_the_demo_factory_has_orders_in_every_status_and_consistent_quantities(app, db_session):
    with app.app_context():
        tenant = seed_demo(db_session)
    with app.app_context(), tenant_context(db_session, tenant.id):
        orders = db_session.scalars(sa.select(WorkOrder)).all()
        statuses = Counter(order.status for order in orders)
        assert set(statuses) == set(OrderStatus) and 18 <= len(orders) <= 25
        routing_statuses = Counter(r.status.value for r in db_session.scalars(sa.select(Routing)))
        assert routing_statuses["active"] >= 8 and routing_statuses["archived"] == 1

        for operation in db_session.scalars(sa.select(Operation)):
            accepted = db_session.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(WorkReport.good), 0),
                    sa.func.coalesce(sa.func.sum(WorkReport.scrap), 0),
                ).where(WorkReport.operation_id == operation.id, WorkReport.status == ReportStatus.ACCEPTED)
            ).one()
            assert tuple(accepted) == (operation.good_qty, operation.scrap_qty), operation.label
            previous = execution.previous_operation(operation)
            if previous is not None:
                assert operation.good_qty + operation.scrap_qty <= previous.good_qty, operation.label

        running = db_session.scalars(sa.select(Operation).where(Operation.status == OperationStatus.RUNNING)).all()
        assert "CNC-05" not in {op.machine.code for op in running}  # left free for trying the tablet
        pending = db_session.scalars(sa.select(WorkReport).where(WorkReport.status == ReportStatus.PENDING_APPROVAL))
        assert len(pending.all()) == 1
        assert len(lots.held_lots(db_session)) == 1

        board = supervision.live_board(db_session)
        assert board.late and board.at_risk and len(board.active) >= 5
        result = supervision.kpis(db_session, days=14)
        assert result.output > 0 and result.orders_completed == 5 and 0 < result.on_time_rate < 1
        assert result.scrap_rate > 0
        assert (
            len(planning.open_orders(db_session)) == statuses[OrderStatus.RELEASED] + statuses[OrderStatus.IN_PROGRESS]
        )
