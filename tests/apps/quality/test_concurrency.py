"""Two inspections saved at one moment: the second waits for the first's number, then draws the next one."""

from __future__ import annotations

import threading

from apps.quality import inspections
from apps.quality.models import InspectionPlan
from platform_core.db import db
from tests.apps.quality.conftest import OD, build_plant, key


def test_an_inspection_saved_while_another_is_being_saved_gets_the_next_number(live_app, make_committed):
    def build(make):
        plant = build_plant(make)
        plan = plant.plan(characteristics=(OD,))
        return plant, plan.id, plan.characteristics[0].id

    plant, plan_id, od_id = make_committed(build)
    results = [{"characteristic_id": od_id, "values": [80.0] * 5}]
    answers: list = []

    def second_inspector() -> None:  # its own request, connection and transaction, as behind gunicorn
        headers = {**plant.inspector.headers, "Idempotency-Key": key()}
        body = {"plan_id": plan_id, "lot": "L-2", "results": results}
        answers.append(live_app.test_client().post("/api/v1/quality/inspections", json=body, headers=headers))

    with live_app.test_request_context(), db.unit_of_work(plant.tenant.id) as session:
        plan = session.get(InspectionPlan, plan_id)
        first = inspections.record(session, results=results, inspector=None, inspector_name="甲", plan=plan)
        assert first.inspection.number == "QI-000001"
        second = threading.Thread(target=second_inspector)
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), answers  # waiting for the first one's transaction to end
    second.join()
    assert answers[0].status_code == 201, answers[0].json
    assert answers[0].json["number"] == "QI-000002"
