"""Telemetry ingest, shared by the HTTP endpoint and the MQTT subscriber.

A batch is a list of points ``{"machine": code, "metric": code, "ts": time, "value": number}``. Each point is
checked on its own: a bad point is reported back with its index and reason and the others are stored. Machines
and metrics are named by their codes and must exist in the gateway's factory; unknown ones are reported back.
Timestamps are ISO 8601 with a UTC offset (``Z`` or ``+08:00``) or Unix epoch seconds (milliseconds above
10^11); they are stored in UTC. Duplicates (same machine, metric and time) are counted and ignored.

After storing, the batch drives what depends on it: the run signal of monitored machines (running, idle, back
from offline), the newest-data time used by the offline watch and stale-data rules, and the value alarm rules.
The per-item loop avoids marshmallow on purpose: it runs for every point of every batch.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment import alarms, states
from apps.equipment.models import Gateway, MachineConfig, Metric, RuleKind, State
from apps.equipment.settings import setting
from apps.equipment.store import Row, store
from platform_core.db import current_tenant_id, utcnow
from platform_core.masterdata.models import Machine

MILLISECONDS_ABOVE = 1e11  # epoch numbers larger than this are milliseconds (year 5138 in seconds)
MAX_REPORTED = 100  # rejected points reported back per batch; the count covers all of them


@dataclass
class IngestResult:
    """What a gateway is told about its batch."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    unknown_machines: set[str] = field(default_factory=set)
    unknown_metrics: set[str] = field(default_factory=set)

    def reject(self, index: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append({"index": index, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected_count,
            "errors": self.rejected,
            "unknown_machines": sorted(self.unknown_machines),
            "unknown_metrics": sorted(self.unknown_metrics),
        }


class BatchTooLarge(ValueError):
    pass


def parse_time(value: Any) -> dt.datetime:
    """A point's timestamp as an aware UTC datetime (see the module docstring for the accepted forms)."""
    if isinstance(value, str):
        ts = dt.datetime.fromisoformat(value)
        offset = ts.utcoffset()
        if offset is None:
            raise ValueError("timestamp needs a UTC offset (Z or +hh:mm)")
        return ts if not offset else ts.astimezone(dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return dt.datetime.fromtimestamp(value / 1000 if value > MILLISECONDS_ABOVE else value, dt.UTC)
    raise ValueError("timestamp must be an ISO 8601 string or epoch seconds")


@dataclass
class Catalog:
    """The factory's machines and metrics by code, and the accepted time range, looked up once per batch."""

    machines: dict[str, Machine]
    metrics: dict[str, int]
    oldest: dt.datetime
    newest: dt.datetime

    @classmethod
    def load(cls, session: Session) -> Catalog:
        now = utcnow()
        return cls(
            machines={m.code: m for m in session.scalars(sa.select(Machine).where(Machine.active))},
            metrics={m.code: m.id for m in session.scalars(sa.select(Metric).where(Metric.active))},
            oldest=now - dt.timedelta(days=raw_retention_days(session)),
            newest=now + dt.timedelta(seconds=setting("EQUIPMENT_MAX_CLOCK_SKEW_SECONDS")),
        )

    @property
    def by_id(self) -> dict[int, Machine]:
        return {m.id: m for m in self.machines.values()}


def prepare(catalog: Catalog, points: Any, machine_code: str | None = None) -> tuple[list[Row], IngestResult]:
    """Check every point of a batch; returns the valid ones as rows and what to tell the gateway."""
    if not isinstance(points, list):
        raise ValueError("the batch must be a JSON array of points")
    if len(points) > setting("EQUIPMENT_INGEST_MAX_POINTS"):
        raise BatchTooLarge(f"at most {setting('EQUIPMENT_INGEST_MAX_POINTS')} points per batch")
    result = IngestResult(received=len(points))
    machines, metrics, oldest, newest = catalog.machines, catalog.metrics, catalog.oldest, catalog.newest
    rows: list[Row] = []
    append = rows.append
    for index, point in enumerate(points):
        if not isinstance(point, dict):
            result.reject(index, "not an object")
            continue
        code, metric = point.get("machine", machine_code), point.get("metric")
        if not isinstance(code, str) or not isinstance(metric, str):
            result.reject(index, "machine and metric must be codes (text)")
            continue
        if machine_code is not None and code != machine_code:
            result.reject(index, f"machine {code!r} differs from the topic's {machine_code!r}")
            continue
        machine = machines.get(code)
        metric_id = metrics.get(metric)
        if machine is None or metric_id is None:
            if machine is None:
                result.unknown_machines.add(code)
            if metric_id is None:
                result.unknown_metrics.add(metric)
            result.reject(index, "unknown machine" if machine is None else "unknown metric")
            continue
        value = point.get("value")
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float) or not math.isfinite(value):
            result.reject(index, "value must be a finite number")
            continue
        try:
            ts = parse_time(point.get("ts"))
        except (ValueError, TypeError, OverflowError, OSError) as error:
            result.reject(index, str(error) or "bad timestamp")
            continue
        if ts > newest:
            result.reject(index, "timestamp in the future (check the gateway's clock)")
            continue
        if ts < oldest:
            result.reject(index, "timestamp older than the raw-data retention")
            continue
        append(Row(machine.id, metric_id, ts, float(value)))
    return rows, result


def ingest(
    session: Session, points: Any, *, gateway: Gateway | None = None, machine_code: str | None = None
) -> IngestResult:
    """Validate, store and react to one batch of the session's tenant; ``machine_code`` fills in missing machines."""
    catalog = Catalog.load(session)
    rows, result = prepare(catalog, points, machine_code)
    result.accepted = store(session, current_tenant_id(session), rows)
    result.duplicates = len(rows) - result.accepted
    react(session, rows, catalog.by_id)
    if gateway is not None:
        record_gateway(session, gateway.id, result)
    session.flush()
    return result


def raw_retention_days(session: Session) -> int:
    from apps.equipment.models import TenantSettings

    own = session.scalar(sa.select(TenantSettings.raw_retention_days))
    return own or setting("EQUIPMENT_RAW_RETENTION_DAYS")


def record_gateway(session: Session, gateway_id: int, result: IngestResult) -> None:
    """Count the batch on the gateway (a plain UPDATE: counters are not audited)."""
    values: dict[str, Any] = {
        "last_seen_at": utcnow(),
        "points_accepted": Gateway.points_accepted + result.accepted,
        "points_duplicate": Gateway.points_duplicate + result.duplicates,
        "points_rejected": Gateway.points_rejected + result.rejected_count,
    }
    if result.rejected:
        first = result.rejected[0]
        values["last_error"] = f"point {first['index']}: {first['reason']}"[:500]
        values["last_error_at"] = utcnow()
    session.execute(sa.update(Gateway).where(Gateway.id == gateway_id).values(**values))


def record_gateway_error(session: Session, gateway_id: int, reason: str) -> None:
    session.execute(
        sa.update(Gateway)
        .where(Gateway.id == gateway_id)
        .values(last_error=reason[:500], last_error_at=utcnow(), points_rejected=Gateway.points_rejected + 1)
    )


# --- reactions ------------------------------------------------------------------------------------------------


def react(session: Session, rows: Sequence[Row], machines: dict[int, Machine]) -> None:
    """Drive machine states and value alarms from a batch (machines in id order, so locks queue consistently)."""
    if not rows:
        return
    by_machine: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_machine[row.machine_id].append(row)
    involved = [machines[machine_id] for machine_id in sorted(by_machine)]
    configs = {
        c.machine_id: c
        for c in session.scalars(sa.select(MachineConfig).where(MachineConfig.machine_id.in_(list(by_machine))))
    }
    rules = alarms.rules_for(session, involved, (*alarms.VALUE_RULES, RuleKind.STALE))
    for machine in involved:
        config = configs.get(machine.id)
        monitored = config is not None and config.run_metric_id is not None
        if not monitored and not rules.get(machine.id):
            continue  # points stored, nothing watches them
        machine_rows = sorted(by_machine[machine.id], key=lambda r: r.ts)
        if monitored:
            run_signal(session, machine, config, machine_rows)
        for rule in rules.get(machine.id, ()):
            points = [(r.ts, r.value) for r in machine_rows if r.metric_id == rule.metric_id]
            if not points:
                continue
            if rule.kind is RuleKind.STALE:
                data_arrived(session, rule, machine, points[-1][0])
            else:
                alarms.evaluate_points(session, rule, machine, points)
    session.flush()


def run_signal(session: Session, machine: Machine, config: MachineConfig, rows: Sequence[Row]) -> None:
    """Running while the run metric is above ``run_above``; idle once it stayed at or below it for a while."""
    status = states.lock_status(session, machine.id, rows[0].ts)
    newest = rows[-1].ts
    if status.last_data_at is None or newest > status.last_data_at:
        status.last_data_at = newest
    idle_after = dt.timedelta(seconds=setting("EQUIPMENT_IDLE_AFTER_SECONDS"))
    for row in rows:
        if row.metric_id != config.run_metric_id:
            continue
        if status.telemetry_at is not None and row.ts <= status.telemetry_at:
            continue  # late point: the signal has moved on
        status.telemetry_at = row.ts
        if row.value > config.run_above:
            status.idle_candidate_at = None
            if status.telemetry_state is not State.RUNNING:
                status.telemetry_state = State.RUNNING
                states.apply(session, status, row.ts, states.Details())
        elif status.telemetry_state is None:
            status.telemetry_state = State.IDLE  # back from offline: stopped
            states.apply(session, status, row.ts, states.Details())
        elif status.telemetry_state is State.RUNNING:
            status.idle_candidate_at = status.idle_candidate_at or row.ts
            if row.ts - status.idle_candidate_at >= idle_after:
                commit_idle(session, status)


def commit_idle(session: Session, status) -> None:
    """The run signal has been off long enough: idle since it went off."""
    since = status.idle_candidate_at
    status.telemetry_state, status.idle_candidate_at = State.IDLE, None
    states.apply(session, status, since, states.Details())


def data_arrived(session: Session, rule, machine: Machine, newest: dt.datetime) -> None:
    """A stale-data rule saw fresh data: remember when, and end its alarm."""
    track = alarms.lock_track(session, rule, machine.id)
    if track.last_ts is None or newest > track.last_ts:
        track.last_ts = newest
    alarm = alarms.open_alarm(session, rule.id, machine.id)
    if alarm is not None:
        alarms.clear(session, alarm, at=newest, by=alarms.SYSTEM)
