"""Helpers for the scheduling tests on ``live_app``'s committed database: real commits, the real job queue, events
delivered after commit, several connections at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from apps.orders import work_orders
from apps.scheduling import runs
from apps.scheduling.models import Run
from platform_core import jobs
from platform_core.db import Actor, db
from platform_core.jobs import Job, JobStatus
from platform_core.masterdata import models as md
from tests.apps.scheduling.conftest import TIME_LIMIT, Plant

_numbers = itertools.count(1)
KINDS = {runs.SOLVE}


def committed(app, plant: Plant, recipe: Callable[[Any], Any], actor: str = "planner"):
    """Run ``recipe(session)`` in a committed unit of work of the plant's factory (events go out on commit)."""
    with app.test_request_context(), db.unit_of_work(plant.tenant.id, actor=Actor(actor)) as session:
        return recipe(session)


def release(app, plant: Plant, product: md.Product | None = None, quantity: int = 50, **fields) -> int:
    def recipe(session):
        order = work_orders.create_order(
            session,
            product=session.get(md.Product, (product or plant.pa).id),
            quantity=quantity,
            number=f"L-{next(_numbers):05d}",
            **fields,
        )
        work_orders.release_order(session, order)
        session.flush()
        return order.id

    return committed(app, plant, recipe)


def create_run(app, plant: Plant, **kwargs) -> int:
    kwargs.setdefault("time_limit_s", TIME_LIMIT)
    kwargs.setdefault("horizon_start", plant.start)
    return committed(app, plant, lambda session: runs.create_run(session, actor="planner", **kwargs).id)


def run_queued(app) -> list[jobs.JobStatus | None]:
    """Run every queued solve job as a worker would; returns their outcomes."""
    outcomes = []
    with app.app_context():
        while (claimed := jobs.claim("test-worker", KINDS)) is not None:
            outcomes.append(jobs.run(app, claimed, "test-worker"))
    return outcomes


def get_run(app, plant: Plant, run_id: int) -> Run:
    return committed(app, plant, lambda session: session.get(Run, run_id))


def clear_queue(app) -> None:
    """No solve job of an earlier test is left for this one's worker to pick up."""
    with app.app_context(), db.unit_of_work() as session:
        session.execute(
            sa.update(Job)
            .where(Job.kind.in_(KINDS), Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.CANCELLED)
            .execution_options(skip_tenant_filter=True)
        )
