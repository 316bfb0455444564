"""Telemetry storage: raw points deduplicated on insert, 1-minute and 1-hour rollups kept up to date incrementally.

Only the points that were really inserted (not duplicates) are added to the rollups, and a rollup row absorbs a
delta by combining aggregates (counts and sums add, min/max compare, first/last by timestamp), so points may
arrive in any order and any number of times and the rollups stay exact.

On PostgreSQL one statement does it all: the batch travels as four arrays, the raw insert's ``RETURNING`` feeds
the two rollup upserts in the same statement (data-modifying CTEs). Rows are fed in key order so that
concurrent batches lock shared rollup rows in the same order. Elsewhere (SQLite) the same happens in three
statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from apps.equipment.models import RollupHour, RollupMinute, TelemetryPoint

RAW = TelemetryPoint.__table__
MINUTE = RollupMinute.__table__
HOUR = RollupHour.__table__


class Row(NamedTuple):
    machine_id: int
    metric_id: int
    ts: dt.datetime
    value: float


def store(session: Session, tenant_id: int, rows: Sequence[Row]) -> int:
    """Insert the rows that are new and add them to the rollups; returns how many were new."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _store_postgresql(session, tenant_id, rows)  # sorted by the statement itself
    return _store_portable(session, tenant_id, sorted(rows))


# --- PostgreSQL: one statement ----------------------------------------------------------------------------------

_COMBINE = """
    count = r.count + excluded.count,
    sum = r.sum + excluded.sum,
    min = LEAST(r.min, excluded.min),
    max = GREATEST(r.max, excluded.max),
    "first" = CASE WHEN excluded.first_ts < r.first_ts THEN excluded."first" ELSE r."first" END,
    first_ts = LEAST(r.first_ts, excluded.first_ts),
    "last" = CASE WHEN excluded.last_ts > r.last_ts THEN excluded."last" ELSE r."last" END,
    last_ts = GREATEST(r.last_ts, excluded.last_ts)
"""

_PG_STORE_TEMPLATE = """
WITH input AS (
    SELECT u.machine_id, u.metric_id, t.ts, u.value
    FROM unnest(CAST(:machines AS integer[]), CAST(:metrics AS integer[]), CAST(:stamps AS double precision[]),
                CAST(:vals AS double precision[])) AS u(machine_id, metric_id, epoch, value)
    CROSS JOIN LATERAL (SELECT to_timestamp(u.epoch) AS ts) AS t
    ORDER BY 1, 2, 3  -- key order: concurrent batches take their locks in the same order
), inserted AS (
    INSERT INTO equipment_telemetry (tenant_id, machine_id, metric_id, ts, value)
    SELECT :tenant, machine_id, metric_id, ts, value FROM input
    ON CONFLICT DO NOTHING
    RETURNING machine_id, metric_id, ts, value
), minutes AS (
    SELECT machine_id, metric_id, date_bin('1 minute', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
           count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max,
           (array_agg(value ORDER BY ts))[1] AS "first", min(ts) AS first_ts,
           (array_agg(value ORDER BY ts DESC))[1] AS "last", max(ts) AS last_ts
    FROM inserted GROUP BY 1, 2, 3
), minute_upsert AS (
    INSERT INTO equipment_rollups_1m AS r
        (tenant_id, machine_id, metric_id, bucket, count, sum, min, max, "first", first_ts, "last", last_ts)
    SELECT :tenant, * FROM minutes ORDER BY machine_id, metric_id, bucket
    ON CONFLICT (machine_id, metric_id, bucket) DO UPDATE SET <combine>
    RETURNING 1
), hour_upsert AS (
    INSERT INTO equipment_rollups_1h AS r
        (tenant_id, machine_id, metric_id, bucket, count, sum, min, max, "first", first_ts, "last", last_ts)
    SELECT :tenant, machine_id, metric_id, date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           sum(count), sum(sum), min(min), max(max),
           (array_agg("first" ORDER BY first_ts))[1], min(first_ts),
           (array_agg("last" ORDER BY last_ts DESC))[1], max(last_ts)
    FROM minutes GROUP BY 2, 3, 4 ORDER BY 2, 3, 4
    ON CONFLICT (machine_id, metric_id, bucket) DO UPDATE SET <combine>
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM minute_upsert), (SELECT count(*) FROM hour_upsert)
"""
_PG_STORE = sa.text(_PG_STORE_TEMPLATE.replace("<combine>", _COMBINE))  # constant SQL; values are bound


def _array(values) -> str:
    """A PostgreSQL array literal: joined in C, where psycopg would adapt every element in Python."""
    return "{" + ",".join(map(repr, values)) + "}"


def _store_postgresql(session: Session, tenant_id: int, rows: Sequence[Row]) -> int:
    machines, metrics, stamps, values = zip(*rows, strict=True)
    parameters = {
        "tenant": tenant_id,
        "machines": _array(machines),
        "metrics": _array(metrics),
        "stamps": _array(ts.timestamp() for ts in stamps),  # epoch seconds: exact to the microsecond in float8
        "vals": _array(values),
    }
    return session.execute(_PG_STORE, parameters).one()[0]


# --- portable (SQLite): insert returning, then aggregate the new rows -------------------------------------------


def _store_portable(session: Session, tenant_id: int, rows: Sequence[Row]) -> int:
    statement = (
        sqlite_insert(RAW).on_conflict_do_nothing().returning(RAW.c.machine_id, RAW.c.metric_id, RAW.c.ts, RAW.c.value)
    )
    params = [{"tenant_id": tenant_id, **row._asdict()} for row in rows]
    inserted = [Row(*r) for r in session.execute(statement, params).all()]
    if inserted:
        minutes = aggregate(inserted, _floor_minute)
        _upsert_portable(session, MINUTE, tenant_id, minutes)
        _upsert_portable(session, HOUR, tenant_id, combine_buckets(minutes, _floor_hour))
    return len(inserted)


def _floor_minute(ts: dt.datetime) -> dt.datetime:
    return ts.replace(second=0, microsecond=0)


def _floor_hour(ts: dt.datetime) -> dt.datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def aggregate(rows: Sequence[Row], floor) -> dict[tuple, dict]:
    """Rollup deltas of ``rows`` per (machine, metric, bucket)."""
    buckets: dict[tuple, dict] = {}
    for machine_id, metric_id, ts, value in rows:
        key = (machine_id, metric_id, floor(ts))
        agg = buckets.get(key)
        if agg is None:
            buckets[key] = {
                "count": 1,
                "sum": value,
                "min": value,
                "max": value,
                "first": value,
                "first_ts": ts,
                "last": value,
                "last_ts": ts,
            }
            continue
        _absorb(agg, {"count": 1, "sum": value, "min": value, "max": value} | _ends(value, ts))
    return buckets


def _ends(value: float, ts: dt.datetime) -> dict:
    return {"first": value, "first_ts": ts, "last": value, "last_ts": ts}


def _absorb(agg: dict, delta: dict) -> None:
    agg["count"] += delta["count"]
    agg["sum"] += delta["sum"]
    agg["min"] = min(agg["min"], delta["min"])
    agg["max"] = max(agg["max"], delta["max"])
    if delta["first_ts"] < agg["first_ts"]:
        agg["first"], agg["first_ts"] = delta["first"], delta["first_ts"]
    if delta["last_ts"] > agg["last_ts"]:
        agg["last"], agg["last_ts"] = delta["last"], delta["last_ts"]


def combine_buckets(buckets: dict[tuple, dict], floor) -> dict[tuple, dict]:
    """Coarser rollup deltas from finer ones (minutes into hours)."""
    coarse: dict[tuple, dict] = {}
    for (machine_id, metric_id, bucket), agg in sorted(buckets.items()):
        key = (machine_id, metric_id, floor(bucket))
        if key in coarse:
            _absorb(coarse[key], agg)
        else:
            coarse[key] = dict(agg)
    return coarse


def _upsert_portable(session: Session, table: sa.Table, tenant_id: int, buckets: dict[tuple, dict]) -> None:
    statement = sqlite_insert(table)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.machine_id, table.c.metric_id, table.c.bucket],
        set_={
            "count": table.c["count"] + excluded["count"],
            "sum": table.c["sum"] + excluded["sum"],
            "min": sa.func.min(table.c["min"], excluded["min"]),
            "max": sa.func.max(table.c["max"], excluded["max"]),
            "first": sa.case((excluded["first_ts"] < table.c["first_ts"], excluded["first"]), else_=table.c["first"]),
            "first_ts": sa.func.min(table.c["first_ts"], excluded["first_ts"]),
            "last": sa.case((excluded["last_ts"] > table.c["last_ts"], excluded["last"]), else_=table.c["last"]),
            "last_ts": sa.func.max(table.c["last_ts"], excluded["last_ts"]),
        },
    )
    params = [
        {"tenant_id": tenant_id, "machine_id": m, "metric_id": k, "bucket": b, **agg}
        for (m, k, b), agg in sorted(buckets.items())
    ]
    session.execute(statement, params)


# --- reading rollups ------------------------------------------------------------------------------------------


def series(
    session: Session, machine_id: int, metric_id: int, start: dt.datetime, end: dt.datetime, resolution: str
) -> list:
    """Rollup rows of one metric between two moments, oldest first (``resolution`` is ``1m`` or ``1h``)."""
    model = RollupMinute if resolution == "1m" else RollupHour
    return list(
        session.scalars(
            sa.select(model)
            .where(
                model.machine_id == machine_id,
                model.metric_id == metric_id,
                model.bucket >= start,
                model.bucket < end,
            )
            .order_by(model.bucket)
        )
    )


def counter_increase(first_last: Sequence[tuple[float, float]]) -> float:
    """Parts counted by a counter from its (first, last) values per bucket, oldest first.

    A drop means the counter was reset (power cycle, rollover): counting starts again from zero there.
    """
    total, previous = 0.0, None
    for first, last in first_last:
        for value in (first, last):
            if previous is not None:
                step = value - previous
                total += step if step >= 0 else value
            previous = value
    return total


# --- retention ------------------------------------------------------------------------------------------------


def purge(session: Session, raw_days: int, minute_days: int, now: dt.datetime) -> tuple[int, int]:
    """Delete the factory's raw points and minute rollups older than their retention; hourly rollups stay."""
    raw = session.execute(
        sa.delete(TelemetryPoint).where(TelemetryPoint.ts < now - dt.timedelta(days=raw_days))
    ).rowcount
    minutes = session.execute(
        sa.delete(RollupMinute).where(RollupMinute.bucket < now - dt.timedelta(days=minute_days))
    ).rowcount
    return raw, minutes
