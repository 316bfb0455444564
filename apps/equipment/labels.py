"""Translated names of the app's states, kinds and statuses, for pages and stored messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from apps.equipment.models import (
    AlarmStatus,
    MaintenanceKind,
    MaintenanceStatus,
    MetricKind,
    PlanTrigger,
    RuleKind,
    Severity,
    State,
)

STATES = {
    State.RUNNING: _l("Running"),
    State.IDLE: _l("Idle"),
    State.SETUP: _l("Setup"),
    State.DOWN: _l("Down"),
    State.MAINTENANCE: _l("Planned maintenance"),
    State.OFFLINE: _l("Offline"),
}
SEVERITIES = {Severity.INFO: _l("Info"), Severity.WARNING: _l("Warning"), Severity.CRITICAL: _l("Critical")}
ALARM_STATUSES = {
    AlarmStatus.ACTIVE: _l("Active"),
    AlarmStatus.ACKNOWLEDGED: _l("Acknowledged"),
    AlarmStatus.CLEARED: _l("Cleared"),
}
RULE_KINDS = {
    RuleKind.HIGH: _l("High limit"),
    RuleKind.LOW: _l("Low limit"),
    RuleKind.RATE: _l("Rate of change"),
    RuleKind.STALE: _l("Stale data"),
    RuleKind.STATE: _l("Machine state too long"),
    RuleKind.TREND: _l("Trend to failure (predictive)"),
    RuleKind.ANOMALY: _l("Anomaly"),
}
MAINTENANCE_KINDS = {
    MaintenanceKind.PREVENTIVE: _l("Preventive"),
    MaintenanceKind.PREDICTIVE: _l("Predictive"),
    MaintenanceKind.CORRECTIVE: _l("Corrective"),
}
MAINTENANCE_STATUSES = {
    MaintenanceStatus.OPEN: _l("Open"),
    MaintenanceStatus.IN_PROGRESS: _l("In progress"),
    MaintenanceStatus.COMPLETED: _l("Completed"),
    MaintenanceStatus.CANCELLED: _l("Cancelled"),
}
TRIGGERS = {
    PlanTrigger.CALENDAR: _l("Calendar interval (days)"),
    PlanTrigger.RUNNING_HOURS: _l("Running hours"),
    PlanTrigger.COUNT: _l("Parts produced"),
}
METRIC_KINDS = {MetricKind.GAUGE: _l("Gauge"), MetricKind.COUNTER: _l("Counter")}
LOSSES = {
    "breakdowns": _l("Breakdowns"),
    "setup": _l("Setup and adjustments"),
    "no_data": _l("No data"),
    "small_stops": _l("Small stops and idling"),
    "reduced_speed": _l("Reduced speed"),
    "defects": _l("Process defects"),
    "reduced_yield": _l("Reduced yield (rework)"),
    "productive": _l("Fully productive time"),
}


def state_label(state: State | str) -> str:
    return str(STATES[State(state)])
