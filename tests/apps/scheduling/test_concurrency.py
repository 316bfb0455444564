"""Two planners publishing at the same moment, on real connections: the factory ends with one published version,
and the plan on the operations is that version's."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from apps.orders import planning
from apps.scheduling import publishing
from apps.scheduling.models import Run, RunStatus, Slot
from platform_core.rbac import Role
from tests.apps.scheduling.conftest import build_plant
from tests.apps.scheduling.live import clear_queue, committed, create_run, release, run_queued


@pytest.fixture
def shop(live_app, make_committed):
    clear_queue(live_app)
    plant = make_committed(build_plant)
    for quantity in (30, 60):
        release(live_app, plant, quantity=quantity)
    release(live_app, plant, product=plant.pb, quantity=25)
    # two planners, each with a token of their own (one shared token would serialise the requests by itself)
    plant.colleague = make_committed(lambda make: make.member(plant.tenant, Role.PLANNER))
    return plant


def _slow_plan_writes(monkeypatch):
    """Hold each publishing transaction open a while, so the two overlap for sure."""
    real = planning.write_plan

    def slow(session, slots, **kwargs):
        time.sleep(0.4)
        return real(session, slots, **kwargs)

    monkeypatch.setattr(planning, "write_plan", slow)
    assert publishing.planning.write_plan is slow


def _publish_together(live_app, shop, run_ids) -> list[int]:
    barrier = threading.Barrier(len(run_ids))
    codes: list[int] = []

    def publish(run_id, member):
        client = live_app.test_client()
        barrier.wait()
        codes.append(client.post(f"/api/v1/scheduling/runs/{run_id}/publish", headers=member.headers).status_code)

    members = (shop.planner, shop.colleague)
    threads = [threading.Thread(target=publish, args=(run_id, members[i])) for i, run_id in enumerate(run_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(codes)


def _state(live_app, shop):
    def read(session):
        statuses = dict(session.execute(sa.select(Run.id, Run.status)).all())
        published = [run_id for run_id, status in statuses.items() if status is RunStatus.PUBLISHED]
        slots = {
            s.operation_id: (s.machine_id, s.start, s.end)
            for s in session.scalars(sa.select(Slot).where(Slot.run_id.in_(published)))
        }
        planned = {
            op.operation_id: (op.planned_machine_id, op.planned_start, op.planned_end)
            for order in planning.open_orders(session)
            for op in order.operations
        }
        return statuses, published, slots, planned

    return committed(live_app, shop, read)


def test_two_versions_published_at_once_leave_one_plan(live_app, shop, monkeypatch):
    first, second = create_run(live_app, shop, preset="makespan"), create_run(live_app, shop, preset="setups")
    run_queued(live_app)
    _slow_plan_writes(monkeypatch)
    assert _publish_together(live_app, shop, [first, second]) == [200, 200]  # one after the other
    statuses, published, slots, planned = _state(live_app, shop)
    assert len(published) == 1
    assert {statuses[first], statuses[second]} == {RunStatus.PUBLISHED, RunStatus.SUPERSEDED}
    assert slots and planned == slots  # the operations carry exactly the published version's plan


def test_the_same_version_published_twice_at_once_is_published_once(live_app, shop, monkeypatch):
    run_id = create_run(live_app, shop)
    run_queued(live_app)
    _slow_plan_writes(monkeypatch)
    assert _publish_together(live_app, shop, [run_id, run_id]) == [200, 409]
    _statuses, published, slots, planned = _state(live_app, shop)
    assert published == [run_id] and planned == slots
    events = committed(
        live_app,
        shop,
        lambda session: session.scalar(
            sa.text(
                "SELECT count(*) FROM platform_outbox WHERE name = 'scheduling.schedule_published' AND tenant_id = :t"
            ),
            {"t": shop.tenant.id},
        ),
    )
    assert events == 1
