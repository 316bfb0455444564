"""Periodic jobs of the app, run by the leader worker for every active factory that has the app enabled.

Each factory runs in its own transaction, so one factory's failure neither blocks nor undoes the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment import forecasting, ingest, maintenance, oee, store, watch
from apps.equipment.settings import setting
from platform_core.db import Actor, db, utcnow
from platform_core.tenants.models import Tenant, TenantApp, TenantStatus

log = logging.getLogger(__name__)
ACTOR = Actor("equipment")


def factories() -> list[int]:
    """Ids of the active factories with the equipment app enabled."""
    with db.unit_of_work() as session:
        return list(
            session.scalars(
                sa.select(Tenant.id)
                .join(TenantApp, TenantApp.tenant_id == Tenant.id)
                .where(TenantApp.app == "equipment", Tenant.status == TenantStatus.ACTIVE)
                .order_by(Tenant.id)
            )
        )


def for_each_factory(work: Callable[[Session], object]) -> None:
    for tenant_id in factories():
        try:
            with db.unit_of_work(tenant_id, actor=ACTOR) as session:
                work(session)
        except Exception:
            log.exception("%s failed for tenant %s", getattr(work, "__name__", work), tenant_id)


def watch_machines() -> None:
    """Offline machines, idle run signals, stale data and long states."""
    for_each_factory(watch.watch)


def scan_maintenance_plans() -> None:
    for_each_factory(maintenance.scan_plans)


def predict() -> None:
    for_each_factory(forecasting.evaluate)


def store_shift_stats() -> None:
    for_each_factory(oee.refresh_shift_stats)


def purge_old_telemetry() -> None:
    def purge(session: Session) -> None:
        raw, minutes = store.purge(
            session, ingest.raw_retention_days(session), setting("EQUIPMENT_MINUTE_ROLLUP_RETENTION_DAYS"), utcnow()
        )
        if raw or minutes:
            log.info("telemetry retention: %d raw points and %d minute rollups removed", raw, minutes)

    for_each_factory(purge)
