"""The periodic jobs the leader worker runs (manifest ``jobs``), each factory in its own committed transaction:
time-based alarms, plan scan, forecasts, OEE figures and retention, over every factory that has the app."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from apps.equipment import configuration, states
from apps.equipment.manifest import manifest
from apps.equipment.models import Alarm, RuleKind, State, StateInterval
from platform_core.db import Actor, db, set_actor, tenant_context, utcnow
from platform_core.masterdata import models as md


def test_the_jobs_run_for_every_factory_with_the_app(live_app, make_committed, monkeypatch):
    monkeypatch.setitem(live_app.config, "EQUIPMENT_BACKDATE_LIMIT_HOURS", 2)

    def recipe(make):
        made = []
        for apps in (["equipment"], ["orders"]):
            tenant = make.tenant(apps=apps)
            with live_app.test_request_context(), tenant_context(make.session, tenant.id):
                set_actor(make.session, Actor("test"))
                center = md.WorkCenter(code="WC", name="工作中心")
                machine = md.Machine(code="J-1", name="设备", work_center=center, model="X1")
                make.session.add(machine)
                make.session.flush()
                configuration.create_rule(
                    make.session,
                    code="DOWN",
                    name="停机过长",
                    kind=RuleKind.STATE,
                    machine_model="X1",
                    state=State.DOWN,
                    threshold=30,
                )
                states.report_down(make.session, machine, at=utcnow() - dt.timedelta(minutes=45))
                make.session.flush()  # its event row, while the factory is the session's tenant
            made.append(tenant.id)
        return made

    with_app, without_app = make_committed(recipe)
    with live_app.app_context():
        assert {spec.name for spec in manifest.jobs} >= {"equipment.watch", "equipment.predict"}
        for spec in manifest.jobs:
            spec.func()  # as the leader's scheduler calls them
    for tenant_id, expected in ((with_app, 1), (without_app, 0)):
        with live_app.app_context(), db.unit_of_work(tenant_id) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Alarm)) == expected
            assert session.scalar(sa.select(sa.func.count()).select_from(StateInterval)) == 1
