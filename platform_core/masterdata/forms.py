"""Forms of the master-data pages; field names match the API's, so service errors land on the right field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields import DecimalField, PasswordField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from platform_core.masterdata.models import ExceptionKind, ReasonKind


def optional_id(value):
    """Coerce a select's value to an id; the empty choice is None."""
    if value in (None, "", "None"):
        return None
    return int(value)


class RefField(SelectField):
    """A reference chosen from a list; the view fills the choices and checks the id belongs to the factory."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=optional_id, validate_choice=False, **kwargs)


class ChecksField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _code(limit: int = 32):
    return StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=limit), Regexp(r"^\S+$", message=_l("No spaces."))],
    )


def _name():
    return StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])


def _name_en():
    return StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])


def _active():
    return BooleanField(_l("Active"), default=True)


class WorkshopForm(FlaskForm):
    code = _code()
    name = _name()
    name_en = _name_en()
    active = _active()


class WorkCenterForm(FlaskForm):
    code = _code()
    name = _name()
    name_en = _name_en()
    workshop_id = RefField(_l("Workshop"))
    calendar_id = RefField(_l("Shift calendar"))
    active = _active()


class MachineForm(FlaskForm):
    code = _code()
    name = _name()
    name_en = _name_en()
    work_center_id = RefField(_l("Work center"), validators=[DataRequired()])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=100)])
    ideal_cycle_time_s = DecimalField(
        _l("Ideal cycle time (seconds per piece)"),
        places=None,
        validators=[Optional(), NumberRange(min=0.001, max=86400)],
    )
    calendar_id = RefField(_l("Own shift calendar"))
    active = _active()


class UnitForm(FlaskForm):
    code = _code()
    name = _name()
    name_en = _name_en()
    decimals = IntegerField(_l("Decimal places"), default=0, validators=[NumberRange(min=0, max=6)])
    active = _active()


class ProductFamilyForm(FlaskForm):
    code = _code()
    name = _name()
    name_en = _name_en()
    active = _active()


class ProductForm(FlaskForm):
    code = _code(64)
    name = _name()
    name_en = _name_en()
    unit_id = RefField(_l("Unit"), validators=[DataRequired()])
    family_id = RefField(_l("Product family"))
    drawing_no = StringField(_l("Drawing number"), validators=[Optional(), Length(max=64)])
    active = _active()


def reason_kind_choices():
    from platform_core.masterdata.services import reason_kind_label

    return [SelectChoice(kind.value, reason_kind_label(kind)) for kind in ReasonKind]


class ReasonForm(FlaskForm):
    kind = SelectField(_l("Kind"))
    code = _code()
    name = _name()
    name_en = _name_en()
    parent_id = RefField(_l("Category (parent)"))
    icon = StringField(_l("Icon"), validators=[Optional(), Length(max=16)])
    sort_order = IntegerField(_l("Position"), default=0, validators=[NumberRange(min=-9999, max=9999)])
    active = _active()


class EmployeeForm(FlaskForm):
    employee_no = StringField(
        _l("Employee number"),
        validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{1,32}$", message=_l("Letters, digits, - or _."))],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    user_id = RefField(_l("Signs in as user"))
    skills = StringField(_l("Skills (separated by ; or 、)"), validators=[Optional(), Length(max=1000)])
    active = _active()


class EmployeeLoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Regexp(r"^[A-Za-z0-9._-]{2,64}$")])
    pin = PasswordField(_l("Tablet PIN"), validators=[DataRequired(), Regexp(r"^\d{1,16}$")])


WEEKDAY_CHOICES = [
    SelectChoice(1, _l("Mon")),
    SelectChoice(2, _l("Tue")),
    SelectChoice(3, _l("Wed")),
    SelectChoice(4, _l("Thu")),
    SelectChoice(5, _l("Fri")),
    SelectChoice(6, _l("Sat")),
    SelectChoice(7, _l("Sun")),
]


class ShiftForm(Form):
    """One shift row of a calendar; a row left empty is ignored."""

    code = StringField(_l("Shift"), validators=[Optional(), Length(max=16)])
    name = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    weekdays = ChecksField(_l("Weekdays"), coerce=int, choices=WEEKDAY_CHOICES)
    start_time = TimeField(_l("Start"), format="%H:%M", validators=[Optional()])
    end_time = TimeField(_l("End"), format="%H:%M", validators=[Optional()])
    breaks = StringField(_l("Breaks"), validators=[Optional(), Length(max=200)])

    def is_blank(self) -> bool:
        return not (self.code.data or self.name.data or self.start_time.data or self.end_time.data)


class CalendarForm(FlaskForm):
    code = _code()
    name = _name()
    name_en = _name_en()
    is_default = BooleanField(_l("Default calendar of the factory"))
    active = _active()
    shifts = FieldList(FormField(ShiftForm), min_entries=0, max_entries=50)


class ExceptionForm(FlaskForm):
    kind = SelectField(_l("Kind"))
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = _name_en()
    start_date = DateField(_l("First day"), validators=[DataRequired()])
    end_date = DateField(_l("Last day"), validators=[Optional()])
    start_time = TimeField(_l("From (on the first day)"), format="%H:%M", validators=[Optional()])
    end_time = TimeField(_l("Until (on the last day)"), format="%H:%M", validators=[Optional()])


def exception_kind_labels() -> dict[str, str]:
    return {
        ExceptionKind.HOLIDAY.value: _l("Holiday"),
        ExceptionKind.SHUTDOWN.value: _l("Shutdown"),
        ExceptionKind.OVERTIME.value: _l("Overtime"),
    }


def exception_kind_choices():
    return [SelectChoice(value, label) for value, label in exception_kind_labels().items()]


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the file holds"))
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired()])
    mode = SelectField(
        _l("Codes that exist already"),
        choices=[
            SelectChoice("insert", _l("Refuse them (add new records only)")),
            SelectChoice("upsert", _l("Update existing")),
        ],
    )
