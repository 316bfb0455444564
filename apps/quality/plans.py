"""Inspection plans: versions per product (and routing operation), characteristics, sampling rules.

A plan is written as a draft, activated (the previous active version of the same code is superseded), and
revised by copying it into a new draft version; results always point to the version they were measured against.
Characteristics with a control chart share one chart across versions (same plan code and characteristic code).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.quality.common import Problems, scrap_codes
from apps.quality.models import (
    Characteristic,
    CharacteristicKind,
    ControlChart,
    InspectionPlan,
    InspectionTask,
    PlanStatus,
    SamplingKind,
    SamplingRule,
    TaskStatus,
)
from apps.quality.spc.charts import ChartType
from apps.quality.spc.constants import MAX_SUBGROUP, MIN_SUBGROUP
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition
from platform_core.masterdata.models import Product

CHARACTERISTIC_FIELDS = (
    "code",
    "name",
    "kind",
    "nominal",
    "lsl",
    "usl",
    "unit",
    "gauge",
    "decimals",
    "defect_codes",
    "accept_number",
    "chart_type",
    "subgroup_size",
)
RULE_FIELDS = ("kind", "every_n", "percent", "sample_size", "due_minutes")


def create_plan(
    session: Session,
    *,
    code: str,
    name: str,
    product: Product,
    operation_sequence: int | None = None,
    notes: str | None = None,
    characteristics: list[dict[str, Any]] = (),
    rules: list[dict[str, Any]] = (),
) -> InspectionPlan:
    """A new plan, version 1, as a draft."""
    if session.scalar(sa.select(InspectionPlan.id).where(InspectionPlan.code == code).limit(1)) is not None:
        raise Conflict(_("Plan code %(code)s is taken.", code=code), errors={"json": {"code": [_("Taken.")]}})
    plan = InspectionPlan(
        code=code, version=1, name=name, product=product, operation_sequence=operation_sequence, notes=notes
    )
    _set_contents(session, plan, list(characteristics), list(rules))
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan: InspectionPlan, data: dict[str, Any]) -> InspectionPlan:
    """Change a draft; ``characteristics`` and ``rules``, when given, replace the lists."""
    _require(plan, PlanStatus.DRAFT, _("Only a draft can be changed; revise the plan to start a new version."))
    for key in ("name", "product", "operation_sequence", "notes"):
        if key in data:
            setattr(plan, key, data[key])
    characteristics = data.get("characteristics")
    rules = data.get("rules")
    if characteristics is not None or rules is not None:
        _set_contents(
            session,
            plan,
            characteristics
            if characteristics is not None
            else [_values(c, CHARACTERISTIC_FIELDS) for c in plan.characteristics],
            rules if rules is not None else [_values(r, RULE_FIELDS) for r in plan.rules],
        )
    session.flush()
    return plan


def activate_plan(session: Session, plan: InspectionPlan) -> InspectionPlan:
    """Put a draft in force; the version it replaces is superseded, its open tasks move to the new version."""
    _require(plan, PlanStatus.DRAFT, _("Only a draft can be activated."))
    if not plan.characteristics:
        problems = Problems()
        problems.add("characteristics", _("A plan needs at least one characteristic."))
        problems.raise_if_any(_("The plan is not complete."))
    now = utcnow()
    previous = session.scalar(
        sa.select(InspectionPlan).where(InspectionPlan.code == plan.code, InspectionPlan.status == PlanStatus.ACTIVE)
    )
    if previous is not None:
        previous.status, previous.ended_at = PlanStatus.SUPERSEDED, now
        session.execute(
            sa.update(InspectionTask)
            .where(InspectionTask.plan_id == previous.id, InspectionTask.status == TaskStatus.OPEN)
            .values(plan_id=plan.id, rule_id=None)
        )
    plan.status, plan.activated_at = PlanStatus.ACTIVE, now
    for characteristic in plan.characteristics:
        characteristic.chart = _chart_for(session, plan, characteristic)
    session.flush()
    return plan


def revise_plan(session: Session, plan: InspectionPlan) -> InspectionPlan:
    """A new draft version copied from ``plan``."""
    if plan.status is PlanStatus.DRAFT:
        raise InvalidTransition(_("This version is still a draft: change it directly."), current_state=plan.status)
    draft = session.scalar(
        sa.select(InspectionPlan).where(InspectionPlan.code == plan.code, InspectionPlan.status == PlanStatus.DRAFT)
    )
    if draft is not None:
        raise Conflict(_("Version %(version)s of this plan is already a draft.", version=draft.version))
    newest = session.scalar(sa.select(sa.func.max(InspectionPlan.version)).where(InspectionPlan.code == plan.code))
    copy = InspectionPlan(
        code=plan.code,
        version=newest + 1,
        name=plan.name,
        product=plan.product,
        operation_sequence=plan.operation_sequence,
        notes=plan.notes,
    )
    _set_contents(
        session,
        copy,
        [_values(c, CHARACTERISTIC_FIELDS) for c in plan.characteristics],
        [_values(r, RULE_FIELDS) for r in plan.rules],
    )
    session.add(copy)
    session.flush()
    return copy


def retire_plan(session: Session, plan: InspectionPlan) -> InspectionPlan:
    """Stop inspecting to this plan; its open tasks are cancelled."""
    _require(plan, PlanStatus.ACTIVE, _("Only the active version can be retired."))
    plan.status, plan.ended_at = PlanStatus.RETIRED, utcnow()
    session.execute(
        sa.update(InspectionTask)
        .where(InspectionTask.plan_id == plan.id, InspectionTask.status == TaskStatus.OPEN)
        .values(status=TaskStatus.CANCELLED, note=_("Plan retired."))
    )
    session.flush()
    return plan


def active_plans(session: Session, product_id: int, sequence: int | None) -> list[InspectionPlan]:
    """The plans in force for a product's operation: the operation's own and the product-wide ones."""
    statement = sa.select(InspectionPlan).where(
        InspectionPlan.product_id == product_id,
        InspectionPlan.status == PlanStatus.ACTIVE,
        sa.or_(InspectionPlan.operation_sequence.is_(None), InspectionPlan.operation_sequence == sequence),
    )
    return list(session.scalars(statement.order_by(InspectionPlan.code)))


# --- contents ---------------------------------------------------------------------------------------------------


def _require(plan: InspectionPlan, status: PlanStatus, message: str) -> None:
    if plan.status is not status:
        raise InvalidTransition(message, current_state=plan.status)


def _values(record, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: getattr(record, field) for field in fields}


def _set_contents(session: Session, plan: InspectionPlan, characteristics: list[dict], rules: list[dict]) -> None:
    problems = Problems()
    seen: set[str] = set()
    for index, data in enumerate(characteristics):
        _check_characteristic(session, data, index, problems)
        if data["code"] in seen:
            problems.add(("characteristics", index, "code"), _("Each characteristic needs its own code."))
        seen.add(data["code"])
    for index, data in enumerate(rules):
        _check_rule(data, index, problems)
    problems.raise_if_any(_("The plan has errors."))
    if plan.id is not None:  # delete the old rows first: new ones may reuse their codes
        plan.characteristics, plan.rules = [], []
        session.flush()
    plan.characteristics = [_characteristic(i, data) for i, data in enumerate(characteristics)]
    plan.rules = [_rule(data) for data in rules]


def _rule(data: dict) -> SamplingRule:
    values = {f: data.get(f) for f in RULE_FIELDS if data.get(f) is not None}
    values["kind"] = SamplingKind(values["kind"])  # an enum even before the row is reloaded
    return SamplingRule(**values)


def _characteristic(position: int, data: dict) -> Characteristic:
    values = {f: data.get(f) for f in CHARACTERISTIC_FIELDS}
    values["kind"] = CharacteristicKind(values["kind"])
    values["chart_type"] = ChartType(values["chart_type"]) if values["chart_type"] else None
    values["defect_codes"] = list(values["defect_codes"] or [])
    values["decimals"] = 3 if values["decimals"] is None else values["decimals"]
    values["accept_number"] = values["accept_number"] or 0
    if values["chart_type"] in (ChartType.IMR, ChartType.C, ChartType.P, ChartType.U, None):
        values["subgroup_size"] = None  # only X̄ and np charts have a fixed subgroup size
    return Characteristic(position=position, **values)


def _check_characteristic(session: Session, data: dict, index: int, problems: Problems) -> None:
    def bad(field: str, message: str) -> None:
        problems.add(("characteristics", index, field), message)

    kind = CharacteristicKind(data["kind"])
    chart = ChartType(data["chart_type"]) if data.get("chart_type") else None
    lsl, usl, nominal = data.get("lsl"), data.get("usl"), data.get("nominal")
    if kind is CharacteristicKind.VARIABLE:
        if lsl is None and usl is None:
            bad("usl", _("A measured characteristic needs a lower or an upper specification limit."))
        if lsl is not None and usl is not None and lsl >= usl:
            bad("usl", _("The upper limit must be above the lower limit."))
        if nominal is not None and ((lsl is not None and nominal < lsl) or (usl is not None and nominal > usl)):
            bad("nominal", _("The nominal value must lie within the specification limits."))
        if chart is not None and not chart.for_variables:
            bad("chart_type", _("Measured characteristics use X̄-R, X̄-S or I-MR charts."))
    else:
        for field in ("lsl", "usl", "nominal"):
            if data.get(field) is not None:
                bad(field, _("Pass/fail characteristics have no specification limits."))
        if chart is not None and chart.for_variables:
            bad("chart_type", _("Pass/fail characteristics use p, np, c or u charts."))
        unknown = scrap_codes(session, data.get("defect_codes") or [])
        if unknown:
            bad("defect_codes", _("Unknown defect codes: %(codes)s.", codes=", ".join(unknown)))
    size = data.get("subgroup_size")
    if chart in (ChartType.XBAR_R, ChartType.XBAR_S) and not (size and MIN_SUBGROUP <= size <= MAX_SUBGROUP):
        bad(
            "subgroup_size",
            _("X̄ charts need a subgroup size from %(low)s to %(high)s.", low=MIN_SUBGROUP, high=MAX_SUBGROUP),
        )
    if chart is ChartType.NP and not size:
        bad("subgroup_size", _("An np chart needs the fixed number of pieces checked each time."))


def _check_rule(data: dict, index: int, problems: Problems) -> None:
    kind = SamplingKind(data["kind"])
    if kind is SamplingKind.EVERY_N and not data.get("every_n"):
        problems.add(("rules", index, "every_n"), _("Say after how many pieces to inspect."))
    if kind is SamplingKind.PERCENT and not data.get("percent"):
        problems.add(("rules", index, "percent"), _("Say which percentage of each quantity to inspect."))


def _chart_for(session: Session, plan: InspectionPlan, characteristic: Characteristic) -> ControlChart | None:
    """The chart a characteristic feeds: the one of its code in earlier versions, else a new one."""
    if characteristic.chart_type is None:
        return None
    chart = session.scalar(
        sa.select(ControlChart).where(
            ControlChart.plan_code == plan.code, ControlChart.characteristic_code == characteristic.code
        )
    )
    if chart is None:
        chart = ControlChart(plan_code=plan.code, characteristic_code=characteristic.code, product=plan.product)
        session.add(chart)
    # A changed chart type or subgroup size makes the old limits inapplicable: see control.current_limits.
    chart.name = f"{plan.product.code} · {characteristic.name}"
    chart.chart_type = characteristic.chart_type
    chart.subgroup_size = characteristic.subgroup_size
    return chart
