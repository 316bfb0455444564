"""Configuration services: gateways, metrics, how machines are monitored, alarm rules, maintenance plans,
the factory's retention. Each checks its rules and raises ``ValidationFailed`` / ``Conflict`` naming the field."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.equipment import states
from apps.equipment.models import (
    AlarmRule,
    Gateway,
    MachineConfig,
    MachineStatus,
    MaintenancePlan,
    Metric,
    PlanTrigger,
    RuleKind,
    TenantSettings,
)
from apps.equipment.signing import signing_key
from platform_core.db import utcnow
from platform_core.errors import Conflict, NotFound, ValidationFailed
from platform_core.identity import services as identity
from platform_core.identity.models import ApiToken, TokenKind, User
from platform_core.masterdata.models import Machine

INGEST = "equipment.ingest"


# --- gateways -------------------------------------------------------------------------------------------------


def create_gateway(session: Session, name: str, created_by: User | None) -> tuple[Gateway, str]:
    """A gateway with its machine token (scope ``equipment.ingest``); the token is returned once, never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the gateway a name."), errors={"name": [_("Required.")]})
    token, secret = identity.create_token(
        session, name=f"gateway {name}", kind=TokenKind.MACHINE, scopes=[INGEST], user=None, created_by=created_by
    )
    gateway = Gateway(name=name, token_id=token.id, prefix=token.prefix, signing_key=signing_key(secret))
    session.add(gateway)
    session.flush()
    return gateway, secret


def gateway_token(session: Session, gateway: Gateway) -> ApiToken:
    return session.get(ApiToken, gateway.token_id)


def revoke_gateway(session: Session, gateway: Gateway) -> Gateway:
    """Switch a gateway off for good: its token stops working over HTTP at once, over MQTT within 30 s."""
    identity.revoke_token(session, gateway_token(session, gateway))
    return gateway


def get_gateway(session: Session, gateway_id: int) -> Gateway:
    gateway = session.get(Gateway, gateway_id)
    if gateway is None:
        raise NotFound(_("No such gateway."))
    return gateway


def gateway_of_token(session: Session, token: ApiToken | None) -> Gateway | None:
    if token is None:
        return None
    return session.scalar(sa.select(Gateway).where(Gateway.token_id == token.id))


# --- metrics --------------------------------------------------------------------------------------------------


def create_metric(session: Session, **fields: Any) -> Metric:
    code = fields["code"].strip()
    if session.scalar(sa.select(Metric.id).where(Metric.code == code)) is not None:
        raise Conflict(_("The code %(code)s is taken.", code=code), errors={"code": [_("Already taken.")]})
    metric = Metric(**{**fields, "code": code})
    session.add(metric)
    session.flush()
    return metric


def update_metric(session: Session, metric: Metric, **changes: Any) -> Metric:
    for name, value in changes.items():
        setattr(metric, name, value)
    session.flush()
    return metric


def get_metric(session: Session, metric_id: int) -> Metric:
    metric = session.get(Metric, metric_id)
    if metric is None:
        raise NotFound(_("No such metric."))
    return metric


# --- machine monitoring ---------------------------------------------------------------------------------------


def machine_config(session: Session, machine: Machine) -> MachineConfig | None:
    return session.scalar(sa.select(MachineConfig).where(MachineConfig.machine_id == machine.id))


def set_machine_config(
    session: Session,
    machine: Machine,
    *,
    run_metric: Metric | None,
    run_above: float = 0.0,
    count_metric: Metric | None = None,
    offline_after_s: int | None = None,
) -> MachineConfig:
    """Say how the machine's signals are read; starting or stopping monitoring re-derives its state now."""
    config = machine_config(session, machine)
    if config is None:
        config = MachineConfig(machine_id=machine.id)
        session.add(config)
    was_monitored = config.run_metric_id is not None
    config.run_metric_id = run_metric.id if run_metric else None
    config.run_above = run_above
    config.count_metric_id = count_metric.id if count_metric else None
    config.offline_after_s = offline_after_s
    session.flush()
    has_timeline = session.scalar(sa.select(MachineStatus.id).where(MachineStatus.machine_id == machine.id))
    if has_timeline and was_monitored != (config.run_metric_id is not None):
        status = states.lock_status(session, machine.id)
        status.telemetry_state = None  # a newly monitored machine is offline until its first data
        states.apply(session, status, utcnow(), states.Details(note="monitoring changed"))
    return config


# --- alarm rules ----------------------------------------------------------------------------------------------

_NEEDS_METRIC = (RuleKind.HIGH, RuleKind.LOW, RuleKind.RATE, RuleKind.STALE, RuleKind.TREND, RuleKind.ANOMALY)


def _check_scope(machine: Machine | None, machine_model: str | None) -> None:
    if (machine is None) == (not machine_model):
        raise ValidationFailed(
            _("Choose one machine or one machine model."),
            errors={"machine_id": [_("One machine, or a model, not both.")]},
        )


def _check_rule(rule: AlarmRule) -> None:
    errors: dict[str, list[str]] = {}
    if rule.kind in _NEEDS_METRIC and rule.metric_id is None:
        errors["metric_id"] = [_("This kind of rule watches a metric.")]
    if rule.kind is RuleKind.STATE and rule.state is None:
        errors["state"] = [_("Choose the state to watch.")]
    if rule.kind is RuleKind.TREND and not rule.lead_time_h:
        errors["lead_time_h"] = [_("Give the warning lead time in hours.")]
    if rule.hysteresis < 0 or rule.min_duration_s < 0:
        errors["hysteresis"] = [_("Must not be negative.")]
    if rule.kind in (RuleKind.STALE, RuleKind.STATE, RuleKind.RATE) and rule.threshold <= 0:
        errors["threshold"] = [_("Must be above zero.")]
    if errors:
        raise ValidationFailed(_("The alarm rule is not complete."), errors=errors)


def create_rule(
    session: Session, *, machine: Machine | None = None, metric: Metric | None = None, **fields: Any
) -> AlarmRule:
    _check_scope(machine, fields.get("machine_model"))
    code = fields["code"].strip()
    if session.scalar(sa.select(AlarmRule.id).where(AlarmRule.code == code)) is not None:
        raise Conflict(_("The code %(code)s is taken.", code=code), errors={"code": [_("Already taken.")]})
    rule = AlarmRule(
        **{**fields, "code": code, "machine_model": fields.get("machine_model") or None},
        machine_id=machine.id if machine else None,
        metric_id=metric.id if metric else None,
    )
    rule.hysteresis = rule.hysteresis or 0.0
    rule.min_duration_s = rule.min_duration_s or 0
    _check_rule(rule)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule: AlarmRule, **changes: Any) -> AlarmRule:
    for name, value in changes.items():
        setattr(rule, name, value)
    _check_rule(rule)
    session.flush()
    return rule


# --- maintenance plans ----------------------------------------------------------------------------------------


def create_plan(session: Session, *, machine: Machine | None = None, **fields: Any) -> MaintenancePlan:
    _check_scope(machine, fields.get("machine_model"))
    code = fields["code"].strip()
    if session.scalar(sa.select(MaintenancePlan.id).where(MaintenancePlan.code == code)) is not None:
        raise Conflict(_("The code %(code)s is taken.", code=code), errors={"code": [_("Already taken.")]})
    plan = MaintenancePlan(
        **{**fields, "code": code, "machine_model": fields.get("machine_model") or None},
        machine_id=machine.id if machine else None,
    )
    _check_plan(plan)
    session.add(plan)
    session.flush()
    return plan


def _check_plan(plan: MaintenancePlan) -> None:
    errors = {}
    if plan.interval is None or plan.interval <= 0:
        errors["interval"] = [_("Must be above zero.")]
    if (plan.lead or 0) < 0 or (plan.lead or 0) >= (plan.interval or 0):
        errors["lead"] = [_("From zero to less than the interval.")]
    if (plan.tolerance or 0) < 0:
        errors["tolerance"] = [_("Must not be negative.")]
    if not isinstance(plan.trigger, PlanTrigger):
        errors["trigger"] = [_("Unknown.")]
    if errors:
        raise ValidationFailed(_("The maintenance plan is not complete."), errors=errors)


def update_plan(session: Session, plan: MaintenancePlan, **changes: Any) -> MaintenancePlan:
    for name, value in changes.items():
        setattr(plan, name, value)
    _check_plan(plan)
    session.flush()
    return plan


# --- the factory's retention ----------------------------------------------------------------------------------


def set_raw_retention(session: Session, days: int) -> TenantSettings:
    if not 1 <= days <= 3650:
        raise ValidationFailed(_("From 1 to 3650 days."), errors={"raw_retention_days": [_("Out of range.")]})
    row = session.scalar(sa.select(TenantSettings))
    if row is None:
        row = TenantSettings(raw_retention_days=days)
        session.add(row)
    row.raw_retention_days = days
    session.flush()
    return row
