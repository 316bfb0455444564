"""Forms of the orders pages; field names match the API's, so service errors land on the right field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


def optional_id(value):
    """A select's value as an id; the empty choice is None."""
    if value in (None, "", "None"):
        return None
    return int(value)


class RefField(SelectField):
    """A record chosen from a list the view fills; the view checks the id belongs to the factory."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=optional_id, validate_choice=False, **kwargs)


class ChecksField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WorkOrderForm(FlaskForm):
    number = StringField(_l("Work order number"), validators=[Optional(), Length(max=64)])
    product_id = RefField(_l("Product"), validators=[DataRequired()])
    quantity = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=1, max=10_000_000)])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    priority = IntegerField(_l("Priority (1 most urgent … 9)"), default=5, validators=[NumberRange(min=1, max=9)])
    customer = StringField(_l("Customer"), validators=[Optional(), Length(max=200)])
    sales_order = StringField(_l("Sales order"), validators=[Optional(), Length(max=64)])
    notes = StringField(_l("Notes"), validators=[Optional(), Length(max=1000)])


class RoutingForm(FlaskForm):
    product_id = RefField(_l("Product"), validators=[DataRequired()])


class StepForm(FlaskForm):
    sequence = IntegerField(_l("Operation number"), validators=[DataRequired(), NumberRange(min=1, max=99999)])
    name = StringField(_l("Operation name"), validators=[DataRequired(), Length(max=200)])
    work_center_id = RefField(_l("Work center"), validators=[DataRequired()])
    setup_minutes = DecimalField(
        _l("Set-up (minutes)"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)]
    )
    seconds_per_unit = DecimalField(
        _l("Run time per piece (seconds)"), default=0, validators=[Optional(), NumberRange(min=0, max=86400)]
    )
    allow_partial = BooleanField(_l("The next operation may start on partial quantities"))
    machine_ids = ChecksField(_l("Machines (none: any machine of the work center)"), coerce=int, validate_choice=False)


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file from the ERP"), validators=[FileRequired()])
    release = BooleanField(_l("Release the new orders at once"))
    dry_run = BooleanField(_l("Check only, import nothing"))


class SettingsForm(FlaskForm):
    over_tolerance_pct = DecimalField(
        _l("Over-delivery tolerance (%)"), validators=[InputRequired(), NumberRange(min=0, max=100)], places=2
    )
