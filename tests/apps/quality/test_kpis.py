"""Quality KPIs from reports, inspections and NCRs, checked against hand-counted figures; CSV export."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.quality import inspections, kpis, ncrs, settings
from platform_core.db import utcnow
from tests.apps.quality.conftest import VISUAL


@pytest.fixture
def period():
    return kpis.Period.last_days(7, now=utcnow() + dt.timedelta(hours=1))


def _produce(plant):
    plant.release_order(1, number="WO-1")
    at = utcnow() - dt.timedelta(days=1)
    plant.report(1, 10, good=90, scrap=10, at=at)  # op 10: 90 of 100 first time
    plant.report(1, 20, good=80, scrap=0, at=at, rework=0)
    plant.report(1, 20, good=0, scrap=5, at=at)  # op 20: 80 of 85 (BURR)
    plant.report(1, 20, good=15, scrap=0, at=utcnow() - dt.timedelta(days=30))  # outside the period


def test_first_pass_yield_and_rolled_throughput(plant, period):
    _produce(plant)
    with plant.scoped() as session:
        rows = kpis.first_pass_yield(session, period)
    assert [(r["operation"], r["good"], r["scrap"]) for r in rows] == [(10, 90, 10), (20, 80, 5)]
    assert rows[0]["fpy"] == pytest.approx(0.9) and rows[1]["fpy"] == pytest.approx(80 / 85)
    assert kpis.rolled_throughput_yield(rows)["FL-080"] == pytest.approx(0.9 * 80 / 85)


def test_ppm_and_scrap_cost(plant, period):
    _produce(plant)
    with plant.scoped() as session:
        settings.set_unit_cost(session, plant.product, 12.5)
        total = kpis.ppm(session, period)[-1]
        cost = kpis.scrap_cost(session, period)
    assert total["ppm"] == pytest.approx(15 / 185 * 1e6)
    assert cost == [
        {
            "product": "FL-080",
            "product_name": "法兰盘 DN80",
            "scrap": 15,
            "unit_cost": 12.5,
            "currency": "CNY",
            "cost": 187.5,
        }
    ]


def test_defect_pareto_adds_scrap_reports_and_inspection_defects(plant, period):
    _produce(plant)
    plan = plant.plan(characteristics=(VISUAL,), rules=[])
    with plant.scoped() as session:
        inspections.record(
            session,
            results=[
                {
                    "characteristic_id": plan.characteristics[0].id,
                    "inspected": 20,
                    "defectives": 3,
                    "defect_counts": {"SCRATCH": 3},
                }
            ],
            inspector=None,
            inspector_name="x",
            plan=plan,
        )
        rows = kpis.defect_pareto(session, period, "en")
    assert [(r["code"], r["count"], r["name"]) for r in rows] == [("BURR", 15, "Burr"), ("SCRATCH", 3, "Scratch")]
    assert rows[0]["cumulative"] == pytest.approx(15 / 18) and rows[-1]["cumulative"] == pytest.approx(1.0)


def test_ncr_ageing_buckets(plant):
    with plant.scoped() as session:
        young = ncrs.raise_ncr(session, by="x", title="new")
        old = ncrs.raise_ncr(session, by="x", title="old")
        old.raised_at = utcnow() - dt.timedelta(days=40)
        closed = ncrs.raise_ncr(session, by="x", title="done")
        ncrs.cancel(session, closed, by="x")
        ageing = kpis.ncr_ageing(session)
    assert [b["count"] for b in ageing["buckets"]] == [1, 0, 1, 0]
    assert {i["number"] for i in ageing["open"]} == {young.number, old.number}


def test_csv_export_has_a_bom_and_defuses_formulas(plant, period):
    _produce(plant)
    with plant.scoped() as session:
        head, rows = kpis.table(session, "fpy", period, "zh_CN")
    text = kpis.to_csv(head, rows)
    assert text.startswith("\ufeffproduct,product_name,operation")
    assert "FL-080,法兰盘 DN80,10,90,10,0,0.9" in text
    assert kpis.to_csv(["a"], [["=HYPERLINK(1)"]]).splitlines()[1] == "'=HYPERLINK(1)"
