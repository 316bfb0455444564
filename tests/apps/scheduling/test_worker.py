"""Runs solved by the real job queue (claim, run, heartbeat, commit with the job's success): live progress through
the job row, cancellation of a running solve, several factories' runs in one queue."""

from __future__ import annotations

import threading
import time

import pytest

from apps.scheduling import solving
from apps.scheduling.models import Run, RunStatus
from apps.scheduling.solver import Progress
from platform_core.jobs import JobStatus
from tests.apps.scheduling.conftest import build_plant
from tests.apps.scheduling.live import clear_queue, committed, create_run, get_run, release, run_queued


@pytest.fixture
def shop(live_app, make_committed):
    clear_queue(live_app)
    return make_committed(build_plant)


def test_a_run_is_solved_by_a_worker_and_committed_with_its_job(live_app, shop):
    release(live_app, shop, quantity=40)
    release(live_app, shop, product=shop.pb, quantity=20)
    run_id = create_run(live_app, shop)
    assert run_queued(live_app) == [JobStatus.SUCCEEDED]
    run = get_run(live_app, shop, run_id)
    assert run.status is RunStatus.DRAFT and run.kpis["operations"] == 3 and run.instance["jobs"]


def test_runs_of_several_factories_share_the_queue(live_app, shop, make_committed):
    other = make_committed(build_plant)
    release(live_app, shop)
    release(live_app, other)
    ids = create_run(live_app, shop), create_run(live_app, other)
    assert run_queued(live_app) == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert get_run(live_app, shop, ids[0]).status is RunStatus.DRAFT
    assert get_run(live_app, other, ids[1]).status is RunStatus.DRAFT


def _slow_engine(steps: int, stop_seen: list):
    """An engine that reports an improving schedule every 0.2 s, then hands over to the real one."""
    real = solving.solve

    def engine(instance, config, progress):
        for step in range(steps):
            time.sleep(0.2)
            if progress(Progress(1000.0 - step, 500.0 + step, 0.2 * (step + 1))):
                stop_seen.append(step)
                break
        return real(instance, config, progress)

    return engine


def _watch(client, member, run_id, until, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = client.get(f"/api/v1/scheduling/runs/{run_id}/progress", headers=member.headers).json
        if until(shown):
            return shown
        time.sleep(0.05)
    pytest.fail(f"progress never reached the expected state: {shown}")


def test_progress_is_live_while_the_engine_searches(live_app, shop, monkeypatch):
    monkeypatch.setattr(solving, "solve", _slow_engine(15, []))
    release(live_app, shop)
    run_id = create_run(live_app, shop)
    worker = threading.Thread(target=run_queued, args=(live_app,))
    worker.start()
    client = live_app.test_client()
    shown = _watch(client, shop.viewer, run_id, lambda p: p["state"] == "solving" and len(p["points"]) >= 3)
    assert shown["phase"] == "solving" and shown["improvements"] >= 3 and shown["elapsed"] >= 0
    assert shown["objective"] < 1000 and shown["bound"] > 500 and 0 < shown["gap"] < 1
    page = client.get(f"/scheduling/runs/{run_id}/progress?live=1", headers=shop.viewer.headers)
    assert page.status_code == 200 and 'data-state="solving"' in page.text and "HX-Refresh" not in page.headers
    worker.join(timeout=30)
    done = _watch(client, shop.viewer, run_id, lambda p: p["state"] == "draft")
    assert done["points"] and done["elapsed"] is not None
    page = client.get(f"/scheduling/runs/{run_id}/progress?live=1", headers=shop.viewer.headers)
    assert page.headers["HX-Refresh"] == "true"  # the page reloads once to show the result


def test_a_running_solve_can_be_cancelled(live_app, shop, monkeypatch):
    live_app.config["JOB_HEARTBEAT_SECONDS"] = 0.2
    stop_seen: list = []
    monkeypatch.setattr(solving, "solve", _slow_engine(100, stop_seen))
    release(live_app, shop)
    run_id = create_run(live_app, shop)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.extend(run_queued(live_app)))
    worker.start()
    client = live_app.test_client()
    try:
        _watch(client, shop.planner, run_id, lambda p: p["state"] == "solving" and p["points"])
        response = client.post(f"/api/v1/scheduling/runs/{run_id}/cancel", headers=shop.planner.headers)
        assert response.status_code == 200 and response.json["status"] == "cancelled"
        worker.join(timeout=30)
    finally:
        live_app.config["JOB_HEARTBEAT_SECONDS"] = 5.0
    assert outcome == [JobStatus.CANCELLED]
    kept = committed(
        live_app, shop, lambda session: (session.get(Run, run_id).status, len(session.get(Run, run_id).slots))
    )
    assert kept == (RunStatus.CANCELLED, 0)
    time.sleep(0.5)
    assert stop_seen, "the engine was told to stop"
