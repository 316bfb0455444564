"""Recording an inspection: results checked against the plan version, pass/fail at once, task closed, SPC run.

Measured values pass when they lie within the specification limits (limits included); a pass/fail
characteristic passes when its defectives do not exceed its acceptance number. The inspection fails when any
characteristic fails, which publishes ``quality.inspection_failed``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.quality import control, production
from apps.quality.common import Problems, scrap_codes
from apps.quality.labels import TASK_STATUS, label
from apps.quality.models import (
    Characteristic,
    CharacteristicKind,
    Inspection,
    InspectionPlan,
    InspectionResult,
    InspectionStatus,
    InspectionTask,
    PlanStatus,
    QualityAlarm,
    TaskStatus,
)
from platform_core import events
from platform_core.db import utcnow
from platform_core.errors import InvalidTransition
from platform_core.identity.models import Employee, User
from platform_core.masterdata.models import Machine
from platform_core.numbering import next_number

MAX_VALUES = 50
FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # tablet clocks drift a little


@dataclass
class Context:
    """Where the inspected pieces come from, for an inspection made without a task."""

    lot_code: str | None = None
    machine: Machine | None = None
    operator: Employee | None = None
    order_id: int | None = None
    operation_id: int | None = None


@dataclass
class Recorded:
    inspection: Inspection
    alarms: list[QualityAlarm] = field(default_factory=list)
    replayed: bool = False


def passes(characteristic: Characteristic, value: float) -> bool:
    low, high = characteristic.lsl, characteristic.usl
    return (low is None or value >= low) and (high is None or value <= high)


def record(
    session: Session,
    *,
    results: list[dict[str, Any]],
    inspector: User | None,
    inspector_name: str,
    task: InspectionTask | None = None,
    plan: InspectionPlan | None = None,
    context: Context | None = None,
    note: str | None = None,
    submission: str | None = None,
    inspected_at: dt.datetime | None = None,
) -> Recorded:
    """Record the results of a task, or of an inspection against an active plan made without a task."""
    if submission:
        done = session.scalar(sa.select(Inspection).where(Inspection.submission == submission))
        if done is not None:  # the same tablet form sent twice (a lost answer): the first one stands
            return Recorded(done, replayed=True)
    problems = Problems()
    now = utcnow()
    inspected_at = inspected_at or now
    if inspected_at > now + FUTURE_TOLERANCE:
        problems.add("inspected_at", _("An inspection cannot be in the future."))
    if task is not None:
        if task.status is not TaskStatus.OPEN:
            raise InvalidTransition(
                _("This task is already %(status)s.", status=label(TASK_STATUS, task.status)), current_state=task.status
            )
        plan = task.plan
    elif plan is None or plan.status is not PlanStatus.ACTIVE:
        problems.add("plan_id", _("Inspect against the active version of a plan."))
        problems.raise_if_any()
    inspection = _new_inspection(session, plan, task, context or Context(), problems)
    sample_size = task.sample_size if task is not None else None
    inspection.results = _results(session, plan, results, sample_size, inspected_at, problems)
    problems.raise_if_any(_("Some results are not valid."))
    inspection.status = (
        InspectionStatus.PASSED if all(r.passed for r in inspection.results) else InspectionStatus.FAILED
    )
    inspection.inspector_id = inspector.id if inspector else None
    inspection.inspector_name = inspector_name
    inspection.note, inspection.submission, inspection.inspected_at = note, submission, inspected_at
    inspection.number = next_number(session, Inspection, "QI-")
    session.add(inspection)
    if task is not None:
        task.status, task.done_at = TaskStatus.DONE, now
    session.flush()
    if inspection.status is InspectionStatus.FAILED:
        _publish_failure(session, inspection)
    return Recorded(inspection, control.evaluate(session, inspection))


def _new_inspection(session, plan, task, context: Context, problems: Problems) -> Inspection:
    if task is not None:
        return Inspection(
            plan=plan,
            task=task,
            product_id=task.product_id,
            lot=task.lot,
            order_id=task.order_id,
            order_number=task.order_number,
            operation_id=task.operation_id,
            operation_sequence=task.operation_sequence,
            machine_id=task.machine_id,
            operator_id=task.operator_id,
        )
    order = production.order_of(session, context.order_id)
    if context.order_id is not None and order is None:
        problems.add("order_id", _("No released order with this id is known to quality."))
    operation = production.operation_of(session, context.operation_id)
    if context.operation_id is not None and operation is None:
        problems.add("operation_id", _("No operation with this id is known to quality."))
    code = production.clean_lot(context.lot_code)
    return Inspection(
        plan=plan,
        product_id=plan.product_id,
        lot=production.get_lot(session, code, plan.product_id) if code else None,
        order_id=context.order_id,
        order_number=order.number if order else None,
        operation_id=context.operation_id,
        operation_sequence=operation.sequence if operation else plan.operation_sequence,
        machine_id=context.machine.id if context.machine else None,
        operator_id=context.operator.id if context.operator else None,
    )


def _results(session, plan, given, sample_size, at, problems: Problems) -> list[InspectionResult]:
    by_id = {c.id: c for c in plan.characteristics}
    seen: set[int] = set()
    built = []
    for index, data in enumerate(given):
        characteristic = by_id.get(data.get("characteristic_id"))
        if characteristic is None:
            problems.add(("results", index, "characteristic_id"), _("Not a characteristic of this plan."))
            continue
        if characteristic.id in seen:
            problems.add(("results", index, "characteristic_id"), _("Given twice."))
            continue
        seen.add(characteristic.id)
        if characteristic.kind is CharacteristicKind.VARIABLE:
            result = _measured(characteristic, data, sample_size, index, problems)
        else:
            result = _judged(session, characteristic, data, sample_size, index, problems)
        if result is not None:
            result.inspected_at = at
            result.chart_id = characteristic.chart_id
            built.append(result)
    for characteristic in plan.characteristics:
        if characteristic.id not in seen:
            problems.add(("results", characteristic.code), _("Enter a result for %(name)s.", name=characteristic.name))
    return built


def _measured(characteristic, data, sample_size, index, problems: Problems) -> InspectionResult | None:
    values = data.get("values") or []
    where = ("results", index, "values")
    if not values:
        problems.add(where, _("Enter the measured values."))
        return None
    if sample_size is not None and len(values) != sample_size:
        problems.add(where, _("This task asks for %(n)s measured pieces.", n=sample_size))
    if len(values) > MAX_VALUES:
        problems.add(where, _("At most %(n)s values.", n=MAX_VALUES))
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        problems.add(where, _("Values must be numbers."))
        return None
    values = [float(v) for v in values]
    return InspectionResult(
        characteristic=characteristic, values=values, passed=all(passes(characteristic, v) for v in values)
    )


def _judged(session, characteristic, data, sample_size, index, problems: Problems) -> InspectionResult | None:
    def bad(field: str, message: str) -> None:
        problems.add(("results", index, field), message)

    inspected = data.get("inspected") or sample_size or 1
    defectives = data.get("defectives")
    counts = {str(k): v for k, v in (data.get("defect_counts") or {}).items()}
    if defectives is None:
        bad("defectives", _("Enter how many pieces are defective (0 when all are good)."))
        return None
    if defectives > inspected:
        bad("defectives", _("More defective pieces than pieces checked."))
    offered = set(characteristic.defect_codes or [])
    unknown = sorted(set(counts) - offered) if offered else scrap_codes(session, counts)
    if unknown:
        bad("defect_counts", _("Not a defect code of this characteristic: %(codes)s.", codes=", ".join(unknown)))
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in counts.values()):
        bad("defect_counts", _("Defect counts are whole numbers from 1."))
        return None
    defects = data.get("defects")
    if defects is None:
        defects = sum(counts.values()) or defectives
    if defects < defectives:
        bad("defects", _("Each defective piece has at least one defect."))
    if counts and sum(counts.values()) != defects:
        bad("defect_counts", _("The defect counts must add up to the number of defects."))
    return InspectionResult(
        characteristic=characteristic,
        inspected=inspected,
        defectives=defectives,
        defects=defects,
        defect_counts=counts,
        passed=defectives <= characteristic.accept_number,
    )


def _publish_failure(session: Session, inspection: Inspection) -> None:
    failed = [r.characteristic.code for r in inspection.results if not r.passed]
    events.publish(
        session,
        "quality.inspection_failed",
        {
            "inspection_id": inspection.id,
            "order_id": inspection.order_id,
            "operation_id": inspection.operation_id,
            "lot": inspection.lot.code if inspection.lot else None,
            "number": inspection.number,
            "product_code": inspection.plan.product.code,
            "machine_id": inspection.machine_id,
            "failed_characteristics": failed,
        },
    )
