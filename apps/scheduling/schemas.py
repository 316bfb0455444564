"""API schemas: input and output separate; ids in bodies are loaded as the factory's own records (``Ref``)."""

from __future__ import annotations

import marshmallow as ma

from apps.scheduling import presets, runs
from apps.scheduling import problems as pb
from apps.scheduling.models import Preset, RunKind, RunStatus
from apps.scheduling.settings import LIMITS
from platform_core import api
from platform_core.api import Ref, Schema
from platform_core.db import db
from platform_core.masterdata.models import Machine, ProductFamily


def _limited(name: str, **kwargs) -> ma.fields.Integer:
    low, high = LIMITS[name]
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(min=low, max=high), **kwargs)


class _IdList(ma.fields.Field):
    """Ids in a query string: ``run_ids=3,5`` or ``run_ids=3&run_ids=5``."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = value if isinstance(value, list) else [value]
        ids = []
        for part in parts:
            for piece in str(part).split(","):
                piece = piece.strip()
                if not piece:
                    continue
                if not piece.isdigit() or not 1 <= int(piece) <= api.MAX_ID:
                    raise ma.ValidationError("Not a list of ids.")
                ids.append(int(piece))
        return ids


# --- settings ------------------------------------------------------------------------------------------------------


class SchedulingSettingsSchema(Schema):
    preset = ma.fields.Enum(Preset, by_value=True)
    time_limit_s = _limited("time_limit_s", metadata={"description": "Seconds a planner's run may search"})
    repair_time_limit_s = _limited("repair_time_limit_s", metadata={"description": "Seconds a repair may search"})
    horizon_days = _limited("horizon_days", metadata={"description": "Days ahead the calendars are read"})
    frozen_minutes = _limited(
        "frozen_minutes", metadata={"description": "Published work starting this soon keeps its place"}
    )
    allow_pause = ma.fields.Boolean(metadata={"description": "Operations may pause over non-working time"})
    changeover_minutes = _limited(
        "changeover_minutes", metadata={"description": "Changeover between two product families unless listed"}
    )
    transfer_batch = _limited(
        "transfer_batch", metadata={"description": "Pieces passed on at once where the routing allows overlap"}
    )
    unknown_down_minutes = _limited(
        "unknown_down_minutes", metadata={"description": "Assumed length of a breakdown with no expected end"}
    )
    auto_repair = ma.fields.Boolean(metadata={"description": "Propose repairs when reality changes"})
    auto_publish_repairs = ma.fields.Boolean(metadata={"description": "Publish repair proposals at once"})
    slippage_minutes = _limited("slippage_minutes", metadata={"description": "The plan slipped beyond this"})
    rush_priority = _limited(
        "rush_priority", metadata={"description": "Releasing an order this urgent (0: none) proposes a repair"}
    )
    version = ma.fields.Integer(dump_only=True)


class SchedulingSetupTimeSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    from_family_id = ma.fields.Integer(dump_only=True)
    from_family_code = ma.fields.Function(lambda o: o.from_family.code, dump_only=True)
    to_family_id = ma.fields.Integer(dump_only=True)
    to_family_code = ma.fields.Function(lambda o: o.to_family.code, dump_only=True)
    minutes = ma.fields.Integer(dump_only=True)


class SchedulingSetupTimeInSchema(Schema):
    from_family_id = Ref(ProductFamily, required=True)
    to_family_id = Ref(ProductFamily, required=True)
    minutes = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(min=0, max=10080))


# --- runs ----------------------------------------------------------------------------------------------------------


class SchedulingRunCreateSchema(Schema):
    preset = ma.fields.Enum(Preset, by_value=True, metadata={"description": "; ".join(p.value for p in Preset)})
    time_limit_s = _limited("time_limit_s")
    horizon_start = ma.fields.AwareDateTime(metadata={"description": "When the schedule starts (default: now)"})
    order_ids = ma.fields.List(
        api.Id(), validate=ma.validate.Length(min=1, max=2000), metadata={"description": "Default: every open order"}
    )
    note = ma.fields.String(validate=ma.validate.Length(max=500))


class SchedulingRunListArgsSchema(Schema):
    status = ma.fields.List(ma.fields.Enum(RunStatus, by_value=True))


class SchedulingRunSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    label = ma.fields.String()
    kind = ma.fields.Enum(RunKind, by_value=True)
    status = ma.fields.Enum(RunStatus, by_value=True)
    state = ma.fields.Function(
        lambda o: runs.state(o, runs.job_of(db.session, o)),
        metadata={"description": "status, or solving while a worker has it"},
    )
    preset = ma.fields.Enum(Preset, by_value=True)
    preset_label = ma.fields.Function(lambda o: str(presets.LABELS[o.preset]))
    time_limit_s = ma.fields.Integer()
    horizon_start = ma.fields.AwareDateTime()
    order_ids = ma.fields.List(ma.fields.Integer(), allow_none=True)
    note = ma.fields.String(allow_none=True)
    cause = ma.fields.String(allow_none=True)
    cause_detail = ma.fields.Dict(allow_none=True)
    base_id = ma.fields.Integer(allow_none=True)
    job_id = ma.fields.Integer(allow_none=True)
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    published_by = ma.fields.String(allow_none=True)
    solver_status = ma.fields.String(allow_none=True)
    objective = ma.fields.Float(allow_none=True)
    bound = ma.fields.Float(allow_none=True)
    gap = ma.fields.Float(allow_none=True)
    wall_seconds = ma.fields.Float(allow_none=True)
    improvements = ma.fields.Integer(allow_none=True)
    kpis = ma.fields.Dict(allow_none=True)
    problems = ma.fields.Function(
        lambda o: pb.described(o.problems), metadata={"description": "Data problems found before solving"}
    )
    explanation = ma.fields.List(ma.fields.String(), allow_none=True)
    error = ma.fields.String(allow_none=True)


class SchedulingProgressSchema(Schema):
    run_id = ma.fields.Integer()
    state = ma.fields.String()
    phase = ma.fields.String(allow_none=True)
    elapsed = ma.fields.Float(allow_none=True)
    time_limit_s = ma.fields.Integer()
    objective = ma.fields.Float(allow_none=True)
    bound = ma.fields.Float(allow_none=True)
    gap = ma.fields.Float(allow_none=True)
    improvements = ma.fields.Integer()
    points = ma.fields.List(ma.fields.List(ma.fields.Float(allow_none=True)))


class SchedulingSlotSchema(Schema):
    id = ma.fields.Integer()
    operation_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    order_number = ma.fields.String()
    product_code = ma.fields.String()
    family = ma.fields.String(allow_none=True)
    op_sequence = ma.fields.Integer()
    op_name = ma.fields.String()
    quantity = ma.fields.Integer()
    due_date = ma.fields.Date(allow_none=True)
    priority = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    machine_code = ma.fields.Function(lambda o: o.machine.code)
    start = ma.fields.AwareDateTime()
    end = ma.fields.AwareDateTime()
    setup_minutes = ma.fields.Integer()
    sequence = ma.fields.Integer()
    frozen = ma.fields.Boolean()
    locked = ma.fields.Boolean()
    late = ma.fields.Boolean()


class SchedulingMoveSchema(Schema):
    machine_id = Ref(Machine, required=True)
    start = ma.fields.AwareDateTime(required=True)


class SchedulingCompareArgsSchema(Schema):
    run_ids = _IdList(required=True, metadata={"description": "Two or more run ids, comma-separated"})


class SchedulingOrdersArgsSchema(Schema):
    order_ids = _IdList()


class SchedulingProblemSchema(Schema):
    kind = ma.fields.String()
    severity = ma.fields.String()
    message = ma.fields.String()
    link = ma.fields.String(allow_none=True)


class SchedulingCheckSchema(Schema):
    orders = ma.fields.Integer()
    operations = ma.fields.Integer()
    machines = ma.fields.Integer()
    problems = ma.fields.List(ma.fields.Nested(SchedulingProblemSchema))


class SchedulingOpenOrderSchema(Schema):
    order_id = ma.fields.Integer()
    number = ma.fields.String()
    product_code = ma.fields.String()
    quantity = ma.fields.Integer()
    due_date = ma.fields.Date(allow_none=True)
    priority = ma.fields.Integer()
    status = ma.fields.String()
    operations = ma.fields.Function(lambda o: len(o.operations))


class SchedulingComparisonSchema(Schema):
    runs = ma.fields.List(ma.fields.Dict())
    machines = ma.fields.List(ma.fields.Dict())
    published_id = ma.fields.Integer(allow_none=True)
