"""Subscribers to the orders app's events: quality's copy of production, genealogy, tasks, scrap NCRs.

Each runs in its own transaction, at least once; the platform records a receipt per event, and the writes
here are idempotent anyway (production records and scrap NCRs are unique per event, tasks per trigger).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask_babel import force_locale
from sqlalchemy.orm import Session

from apps.quality import ncrs, production, sampling
from apps.quality.common import scrap_codes
from apps.quality.models import NcrSource
from apps.quality.settings import get_settings
from platform_core.db import current_tenant_id
from platform_core.events import Event
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine
from platform_core.tenants.models import Tenant


def _in_factory_language(handler: Callable[[Session, Event], None]) -> Callable[[Session, Event], None]:
    """Run a subscriber in the factory's language: the worker has no request to take a language from, and what
    a subscriber writes (an NCR's title) is read by the factory's people."""

    @functools.wraps(handler)
    def wrapper(session: Session, event: Event) -> None:
        tenant = session.get(Tenant, current_tenant_id(session))
        with force_locale(tenant.default_locale):
            handler(session, event)

    return wrapper


@_in_factory_language
def on_order_released(session: Session, event: Event) -> None:
    """``orders.order_released``: remember the order's number, product and operations."""
    production.record_order(session, event.payload, event.occurred_at)


@_in_factory_language
def on_operation_started(session: Session, event: Event) -> None:
    """``orders.operation_started``: first-article tasks (first of the order, first of the shift)."""
    sampling.on_operation_started(session, event.payload, event.occurred_at)


@_in_factory_language
def on_operation_reported(session: Session, event: Event) -> None:
    """``orders.operation_reported``: production record, lots and genealogy, sampling tasks, scrap NCR."""
    payload = event.payload
    record = production.record_report(session, event.id, payload, event.occurred_at)
    sampling.on_operation_reported(session, record, payload)
    settings = get_settings(session)
    if settings.ncr_from_scrap and record.scrap >= max(1, settings.scrap_ncr_minimum):
        _scrap_ncr(session, event, record)


def _scrap_ncr(session: Session, event: Event, record) -> None:
    ncrs.raise_ncr(
        session,
        by=event.actor.get("label") or "orders",
        source=NcrSource.SCRAP,
        product=record.product,
        quantity=record.scrap,
        defect_codes=[record.scrap_reason_code] if _known_reason(session, record.scrap_reason_code) else [],
        lot_code=record.output_lot.code if record.output_lot else None,
        order_id=record.order_id,
        operation_id=record.operation_id,
        machine=session.get(Machine, record.machine_id) if record.machine_id else None,
        operator=session.get(Employee, record.employee_id) if record.employee_id else None,
        event_id=event.id,
    )


def _known_reason(session: Session, code: str | None) -> bool:
    return bool(code) and not scrap_codes(session, [code])
