"""Forms of the planning pages; field names match the API's, so service errors land on the right field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from apps.scheduling.models import Preset
from apps.scheduling.presets import LABELS
from apps.scheduling.settings import LIMITS


def _limits(name: str) -> NumberRange:
    low, high = LIMITS[name]
    return NumberRange(min=low, max=high)


def preset_choices() -> list[tuple[str, str]]:
    return [(p.value, str(LABELS[p])) for p in Preset]


class RunForm(FlaskForm):
    preset = RadioField(_l("Objective"), validators=[InputRequired()])
    time_limit_s = IntegerField(_l("Time limit (seconds)"), validators=[InputRequired(), _limits("time_limit_s")])
    horizon_start = DateTimeLocalField(
        _l("Schedule starts (empty: now)"), validators=[Optional()], format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class MoveForm(FlaskForm):
    machine_id = SelectField(_l("Machine"), coerce=int, validate_choice=False, validators=[InputRequired()])
    start = DateTimeLocalField(
        _l("Start"), validators=[InputRequired()], format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
    )


class SettingsForm(FlaskForm):
    preset = SelectField(_l("Default objective"))
    time_limit_s = IntegerField(
        _l("Time limit of a run (seconds)"), validators=[InputRequired(), _limits("time_limit_s")]
    )
    repair_time_limit_s = IntegerField(
        _l("Time limit of a repair (seconds)"), validators=[InputRequired(), _limits("repair_time_limit_s")]
    )
    horizon_days = IntegerField(_l("Planning horizon (days)"), validators=[InputRequired(), _limits("horizon_days")])
    frozen_minutes = IntegerField(
        _l("Frozen horizon (minutes): published work starting this soon stays put"),
        validators=[InputRequired(), _limits("frozen_minutes")],
    )
    allow_pause = BooleanField(_l("Operations may pause over breaks, nights and weekends"))
    changeover_minutes = IntegerField(
        _l("Changeover between product families (minutes, unless listed below)"),
        validators=[InputRequired(), _limits("changeover_minutes")],
    )
    transfer_batch = IntegerField(
        _l("Transfer batch (pieces passed on at once where the routing allows overlap)"),
        validators=[InputRequired(), _limits("transfer_batch")],
    )
    unknown_down_minutes = IntegerField(
        _l("Assumed length of a breakdown with no expected end (minutes)"),
        validators=[InputRequired(), _limits("unknown_down_minutes")],
    )
    auto_repair = BooleanField(_l("Propose a repair schedule when reality changes"))
    auto_publish_repairs = BooleanField(_l("Publish repair proposals at once"))
    slippage_minutes = IntegerField(
        _l("The plan has slipped when work is late by (minutes)"),
        validators=[InputRequired(), _limits("slippage_minutes")],
    )
    rush_priority = IntegerField(
        _l("Releasing an order of this priority or more urgent proposes a repair (0: never)"),
        validators=[InputRequired(), _limits("rush_priority")],
    )


class SetupTimeForm(FlaskForm):
    from_family_id = SelectField(_l("From family"), coerce=int, validate_choice=False, validators=[InputRequired()])
    to_family_id = SelectField(_l("To family"), coerce=int, validate_choice=False, validators=[InputRequired()])
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(), NumberRange(min=0, max=10080)])
