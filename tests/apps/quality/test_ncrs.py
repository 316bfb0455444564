"""Nonconformance: raised from a failed inspection, a scrap report or by hand; the workflow; lot holds and their
events (what the orders app listens to); the audit trail of every change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from apps.quality import holds, inspections, ncrs
from apps.quality.models import (
    ActionStep,
    Disposition,
    Lot,
    LotHold,
    NcrSource,
    NcrStatus,
    Nonconformance,
    ProductionRecord,
)
from apps.quality.settings import get_settings, update_settings
from platform_core.audit import AuditEntry
from platform_core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from platform_core.events import OutboxEvent
from tests.apps.quality.conftest import OD, VISUAL


def _events(plant, *names):
    with plant.scoped() as session:
        rows = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.name.in_(names)).order_by(OutboxEvent.occurred_at)
        )
        return [(e.name, e.payload) for e in rows]


def _failed_inspection(plant):
    plan = plant.plan(characteristics=(OD, VISUAL))
    ids = {c.code: c.id for c in plan.characteristics}
    with plant.scoped() as session:
        return inspections.record(
            session,
            results=[
                {"characteristic_id": ids["OD"], "values": [80.0, 80.06, 80.07, 80.0, 80.0]},
                {"characteristic_id": ids["VIS"], "inspected": 5, "defectives": 1, "defect_counts": {"BURR": 1}},
            ],
            inspector=plant.inspector.user,
            inspector_name="周敏",
            plan=plan,
            context=inspections.Context(lot_code="L2405-113", machine=plant.machine, operator=plant.employee),
        ).inspection


def test_an_ncr_from_a_failed_inspection_holds_the_lot_and_announces_it(plant):
    inspection = _failed_inspection(plant)
    with plant.scoped() as session:
        ncr = ncrs.raise_ncr(session, by="周敏", inspection=inspection, hold_lot=True)
        assert ncr.source is NcrSource.INSPECTION and ncr.status is NcrStatus.OPEN
        assert ncr.number.startswith("NCR-") and ncr.lot.code == "L2405-113"
        assert (ncr.machine_id, ncr.operator_id, ncr.product_id) == (
            plant.machine.id,
            plant.employee.id,
            plant.product.id,
        )
        assert ncr.defect_codes == ["BURR"] and ncr.quantity == 2  # two diameters out of tolerance
        assert holds.is_held(session, ncr.lot)
    held = _events(plant, "quality.lot_held")
    assert held == [
        (
            "quality.lot_held",
            {
                "lot": "L2405-113",
                "ncr_id": ncr.id,
                "reason": f"{ncr.number} {ncr.title}",
                "ncr_number": ncr.number,
                "held_at": held[0][1]["held_at"],
            },
        )
    ]


def test_the_workflow_from_open_to_closed_releases_the_lot(plant):
    inspection = _failed_inspection(plant)
    with plant.scoped() as session:
        ncr = ncrs.raise_ncr(session, by="周敏", inspection=inspection, hold_lot=True)
        with pytest.raises(InvalidTransition):
            ncrs.approve(session, ncr, by="x")  # nothing proposed yet
        ncrs.propose(session, ncr, disposition=Disposition.REWORK, note="车削返修", by="周敏")
        ncrs.reject(session, ncr, by="王芳", note="先隔离再返修")
        assert ncr.status is NcrStatus.OPEN and ncr.disposition is None
        ncrs.propose(session, ncr, disposition=Disposition.REWORK, note="隔离后返修", by="周敏")
        with pytest.raises(PermissionDenied):
            ncrs.approve(session, ncr, by="周敏")  # the proposer does not approve
        ncrs.approve(session, ncr, by="王芳")
        assert ncr.status is NcrStatus.DISPOSITIONED and ncr.approved_by == "王芳"
        action = ncrs.add_action(
            session, ncr, step=ActionStep.CAUSE, description="刀具磨损", owner=plant.inspector.user
        )
        with pytest.raises(Conflict):
            ncrs.close(session, ncr, by="周敏")  # an action is still open
        ncrs.complete_action(session, action, result="换刀并缩短换刀周期")
        with pytest.raises(Conflict) as caught:
            ncrs.close(session, ncr, by="周敏")
        assert caught.value.code == "steps_missing"  # the verification is not recorded yet
        check = ncrs.add_action(session, ncr, step=ActionStep.VERIFICATION, description="连续三批外径合格")
        ncrs.complete_action(session, check, result="三批全检无超差")
        ncrs.close(session, ncr, by="周敏")
        assert ncr.status is NcrStatus.CLOSED and not holds.is_held(session, ncr.lot)
        with pytest.raises(InvalidTransition):
            ncrs.update_ncr(session, ncr, {"title": "too late"})
        transitions = session.scalars(
            sa.select(AuditEntry.changes)
            .where(
                AuditEntry.entity == "quality_ncrs",
                AuditEntry.action == "transition",
                AuditEntry.entity_id == str(ncr.id),
            )
            .order_by(AuditEntry.id)
        ).all()
    statuses = [change["status"] for change in transitions]
    assert statuses == [
        ["open", "proposed"],
        ["proposed", "open"],
        ["open", "proposed"],
        ["proposed", "dispositioned"],
        ["dispositioned", "closed"],
    ]
    names = [name for name, _payload in _events(plant, "quality.lot_held", "quality.lot_released")]
    assert names == ["quality.lot_held", "quality.lot_released"]


def test_a_lot_held_by_two_ncrs_stays_held_until_both_release_it(plant):
    inspection = _failed_inspection(plant)
    with plant.scoped() as session:
        first = ncrs.raise_ncr(session, by="周敏", inspection=inspection, hold_lot=True)
        second = ncrs.raise_ncr(session, by="周敏", title="客户投诉", lot_code="L2405-113", hold_lot=True)
        ncrs.cancel(session, first, by="王芳", note="重复")
        assert holds.is_held(session, first.lot)
        hold = session.scalar(sa.select(LotHold).where(LotHold.ncr_id == second.id))
        with pytest.raises(PermissionDenied):
            holds.release(session, hold, by="周敏", note="复检合格")  # she held it, nothing is decided yet
        holds.release(session, hold, by="王芳", note="复检合格")
        assert not holds.is_held(session, first.lot)
        with pytest.raises(InvalidTransition):
            holds.release(session, hold, by="周敏")
    released = [p["ncr_id"] for n, p in _events(plant, "quality.lot_released")]
    assert sorted(released) == sorted([first.id, second.id])


def test_scrap_reports_raise_ncrs_once_per_event(plant):
    plant.release_order(7, number="WO-7")
    event_id = plant.report(7, good=40, scrap=12, output_lot="L-7")
    with plant.scoped() as session:
        found = session.scalars(sa.select(Nonconformance)).all()
    assert len(found) == 1
    ncr = found[0]
    assert (ncr.source, ncr.quantity, ncr.defect_codes, ncr.order_number) == (NcrSource.SCRAP, 12, ["BURR"], "WO-7")
    assert ncr.event_id == event_id and ncr.lot.code == "L-7" and "WO-7" in ncr.title
    plant.report(7, good=40, scrap=0)
    with plant.scoped() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Nonconformance)) == 1


def test_a_manual_ncr_checks_its_references(plant):
    with plant.scoped() as session, pytest.raises(ValidationFailed) as caught:
        ncrs.raise_ncr(session, by="x", title="t", order_id=4242, defect_codes=["NOPE"], hold_lot=True)
    assert set(caught.value.errors["json"]) == {"order_id", "defect_codes", "hold_lot"}


def _ncr_count(plant) -> int:
    with plant.scoped() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Nonconformance))


def test_routine_scrap_is_recorded_without_an_ncr_until_the_factory_minimum(plant):
    plant.release_order(8, number="WO-8")
    plant.report(8, good=120, scrap=3, output_lot="L-8")  # an operator's ordinary report: 120 good, 3 burrs
    with plant.scoped() as session:
        minimum = get_settings(session).scrap_ncr_minimum
    assert minimum > 3
    plant.report(8, good=100, scrap=minimum - 1)
    assert _ncr_count(plant) == 0
    with plant.scoped() as session:  # the scrap still counts for the KPIs
        assert session.scalar(sa.select(sa.func.sum(ProductionRecord.scrap))) == 3 + minimum - 1
    plant.report(8, good=100, scrap=minimum)
    assert _ncr_count(plant) == 1
    with plant.scoped() as session:
        update_settings(session, {"scrap_ncr_minimum": 1})  # a factory that wants every scrapped piece looked at
    plant.report(8, good=50, scrap=1)
    assert _ncr_count(plant) == 2


def test_a_mistyped_lot_code_is_refused_and_creates_no_lot(plant):
    with plant.scoped() as session:
        with pytest.raises(ValidationFailed) as caught:
            ncrs.raise_ncr(session, by="周敏", title="客户投诉", lot_code="L2405-13", hold_lot=True)
        assert set(caught.value.errors["json"]) == {"lot"}
        assert session.scalar(sa.select(sa.func.count()).select_from(Lot)) == 0
