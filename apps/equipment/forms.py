"""Forms of the equipment configuration pages; field names match the services', so errors land on the field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from apps.equipment import labels
from apps.equipment.models import MetricKind, PlanTrigger, Severity


def _choices(mapping) -> list[SelectChoice]:
    return [SelectChoice(key.value, value) for key, value in mapping.items()]


class GatewayForm(FlaskForm):
    name = StringField(_l("Gateway name"), validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Register gateway"))


class MetricForm(FlaskForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_.-]{1,64}$", message=_l("Letters, digits, _ . -"))]
    )
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=16)])
    kind = SelectField(_l("Kind"), choices=_choices(labels.METRIC_KINDS), default=MetricKind.GAUGE.value)
    submit = SubmitField(_l("Add metric"))


class RetentionForm(FlaskForm):
    days = IntegerField(_l("Keep raw points (days)"), validators=[DataRequired(), NumberRange(min=1, max=3650)])
    submit = SubmitField(_l("Save retention"))


class MachineConfigForm(FlaskForm):
    run_metric_id = SelectField(_l("Run signal (metric)"), validate_choice=False)
    run_above = FloatField(_l("Running when above"), default=0.0, validators=[Optional()])
    count_metric_id = SelectField(_l("Part counter (metric)"), validate_choice=False)
    offline_after_s = IntegerField(
        _l("Offline after (seconds without data)"), validators=[Optional(), NumberRange(min=10, max=86400)]
    )


class RuleForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(labels.RULE_KINDS))
    machine_id = SelectField(_l("Machine"), validate_choice=False)
    machine_model = StringField(_l("or every machine of the model"), validators=[Optional(), Length(max=100)])
    metric_id = SelectField(_l("Metric"), validate_choice=False)
    state = SelectField(_l("State (state rules)"), choices=[SelectChoice("", "—"), *_choices(labels.STATES)])
    threshold = FloatField(_l("Threshold"), validators=[DataRequired(message=_l("Give a threshold."))])
    hysteresis = FloatField(_l("Hysteresis"), default=0.0, validators=[Optional(), NumberRange(min=0)])
    min_duration_s = IntegerField(_l("Minimum duration (s)"), default=0, validators=[Optional(), NumberRange(min=0)])
    lead_time_h = FloatField(_l("Warning lead time (h, trend rules)"), validators=[Optional(), NumberRange(min=0)])
    severity = SelectField(_l("Severity"), choices=_choices(labels.SEVERITIES), default=Severity.WARNING.value)


class PlanForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    machine_id = SelectField(_l("Machine"), validate_choice=False)
    machine_model = StringField(_l("or every machine of the model"), validators=[Optional(), Length(max=100)])
    trigger = SelectField(_l("Due by"), choices=_choices(labels.TRIGGERS), default=PlanTrigger.CALENDAR.value)
    interval = FloatField(_l("Every (days, hours or parts)"), validators=[DataRequired(), NumberRange(min=0.01)])
    lead = FloatField(_l("Create the order this much before"), default=0.0, validators=[Optional()])
    tolerance = FloatField(_l("Tolerance"), default=0.0, validators=[Optional()])
    duration_min = IntegerField(_l("Window (minutes)"), default=60, validators=[Optional(), NumberRange(min=1)])
    checklist = TextAreaField(_l("Checklist (one item per line)"), validators=[Optional(), Length(max=5000)])
    blocks_machine = BooleanField(_l("Blocks the machine"), default=True)
