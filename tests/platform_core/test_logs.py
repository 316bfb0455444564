"""The access log: one line per request, naming the factory, even when the request's transaction failed."""

from __future__ import annotations

import logging
import threading

from platform_core.db import db
from platform_core.masterdata.models import Unit


def test_a_unique_index_race_answers_409_and_is_logged_with_the_factory(live_app, make_committed, caplog):
    member = make_committed(lambda make: make.member(make.tenant()))
    answers: list = []

    def second_admin() -> None:  # checks the code is free, then waits on the index for the first one's commit
        body = {"code": "pcs", "name": "个"}
        answers.append(live_app.test_client().post("/api/v1/masterdata/units", json=body, headers=member.headers))

    caplog.set_level(logging.INFO, logger="mes.access")
    with live_app.app_context(), db.unit_of_work(member.tenant.id) as session:
        session.add(Unit(code="pcs", name="件"))
        session.flush()
        second = threading.Thread(target=second_admin)
        second.start()
        second.join(timeout=1.0)
    second.join()
    assert answers[0].status_code == 409, answers[0].text
    assert answers[0].json["code"] == "conflict" and answers[0].json["message"]
    logged = [r for r in caplog.records if r.name == "mes.access" and r.path == "/api/v1/masterdata/units"]
    assert [(r.status, r.tenant_id) for r in logged] == [(409, member.tenant.id)]
