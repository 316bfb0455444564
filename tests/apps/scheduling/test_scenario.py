"""``mes demo --scenario breakdown`` plays the day of a breakdown on a fresh demo factory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from apps.scheduling.models import Run, RunKind, RunStatus
from platform_core.db import db, tenant_context
from platform_core.demo import DEMO_CODE
from platform_core.tenants.models import Tenant
from tests.conftest import TEST_CONFIG

pytestmark = pytest.mark.slow


def test_the_breakdown_scenario_plans_breaks_repairs_and_comes_back():
    from platform_core import migrations
    from platform_core.app import create_app

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mes-scenario-')) / 'demo.db'}"
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "LOG_LEVEL": "CRITICAL"})
    with app.app_context():
        migrations.upgrade(db.engine)
    result = app.test_cli_runner().invoke(args=["demo", "--scenario", "breakdown", "--time-limit", "3"])
    assert result.exit_code == 0, result.output
    steps = [line.split(".")[0] for line in result.output.splitlines() if line[:2] in {"1.", "2.", "3.", "4.", "5."}]
    assert steps == ["1", "2", "3", "4", "5"]
    with app.app_context(), db.unit_of_work() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.code == DEMO_CODE))
        with tenant_context(session, tenant_id):
            found = [(r.kind, r.status) for r in session.scalars(sa.select(Run).order_by(Run.number))]
    assert found[:2] == [(RunKind.PLAN, RunStatus.SUPERSEDED), (RunKind.REPAIR, RunStatus.PUBLISHED)]
    app.extensions["mes.engine"].dispose()


def test_an_unknown_scenario_is_refused_with_the_known_ones():
    app_config = {**TEST_CONFIG, "DATABASE_URL": "sqlite://", "LOG_LEVEL": "CRITICAL"}
    from platform_core.app import create_app

    result = create_app(app_config).test_cli_runner().invoke(args=["demo", "--scenario", "flood"])
    assert result.exit_code == 2 and "breakdown" in result.output
