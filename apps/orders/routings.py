"""Routings: versions of a product's operations. A draft is edited, activated (the previous active version is
archived), and never changed once active; changing an active routing means a new version. Released orders
carry their own snapshot of the operations anyway, so no routing change ever reaches them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.orders.models import Routing, RoutingStatus, RoutingStep, RoutingStepMachine, WorkOrder
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition, ValidationFailed
from platform_core.masterdata.models import Product


def status_label(status: RoutingStatus) -> str:
    return {
        RoutingStatus.DRAFT: _("draft"),
        RoutingStatus.ACTIVE: _("active"),
        RoutingStatus.ARCHIVED: _("archived"),
    }[status]


def active_routing(session: Session, product: Product) -> Routing | None:
    statement = sa.select(Routing).where(Routing.product_id == product.id, Routing.status == RoutingStatus.ACTIVE)
    return session.scalar(statement)


def routings_of(session: Session, product: Product) -> list[Routing]:
    statement = sa.select(Routing).where(Routing.product_id == product.id).order_by(Routing.version.desc())
    return list(session.scalars(statement))


def _check_steps(steps: list[dict[str, Any]]) -> None:
    problems: dict[str, dict[str, list[str]]] = {}
    if not steps:
        raise ValidationFailed(_("A routing needs at least one operation."), errors={"steps": [_("Add an operation.")]})
    seen: set[int] = set()
    for index, step in enumerate(steps):
        mine: dict[str, list[str]] = {}
        if step["sequence"] in seen:
            mine["sequence"] = [_("Operation %(n)d appears twice.", n=step["sequence"])]
        seen.add(step["sequence"])
        machine_ids = [m["machine"].id for m in step.get("machines", [])]
        if len(machine_ids) != len(set(machine_ids)):
            mine.setdefault("machines", []).append(_("A machine is listed twice."))
        for option in step.get("machines", []):
            if option["machine"].work_center_id != step["work_center"].id:
                mine.setdefault("machines", []).append(
                    _(
                        "%(machine)s belongs to another work center than %(center)s.",
                        machine=option["machine"].code,
                        center=step["work_center"].code,
                    )
                )
        if mine:
            problems[str(index)] = mine
    if problems:
        raise ValidationFailed(_("Some operations of the routing are not valid."), errors={"steps": problems})


def _build_steps(steps: list[dict[str, Any]]) -> list[RoutingStep]:
    built = []
    for step in sorted(steps, key=lambda s: s["sequence"]):
        built.append(
            RoutingStep(
                sequence=step["sequence"],
                name=step["name"].strip(),
                work_center=step["work_center"],
                setup_minutes=step.get("setup_minutes", 0.0),
                seconds_per_unit=step.get("seconds_per_unit", 0.0),
                allow_partial=step.get("allow_partial", False),
                machines=[
                    RoutingStepMachine(machine=m["machine"], seconds_per_unit=m.get("seconds_per_unit"))
                    for m in step.get("machines", [])
                ],
            )
        )
    return built


def _next_version(session: Session, product: Product) -> int:
    highest = session.scalar(sa.select(sa.func.max(Routing.version)).where(Routing.product_id == product.id))
    return (highest or 0) + 1


def create_routing(
    session: Session, *, product: Product, steps: list[dict[str, Any]], notes: str | None = None
) -> Routing:
    """A new draft version of the product's routing."""
    _check_steps(steps)
    routing = Routing(product=product, version=_next_version(session, product), notes=notes, steps=_build_steps(steps))
    session.add(routing)
    session.flush()
    return routing


def empty_draft(session: Session, *, product: Product) -> Routing:
    """A new draft version without operations, to be filled on the routing page."""
    routing = Routing(product=product, version=_next_version(session, product))
    session.add(routing)
    session.flush()
    return routing


def _require_draft(routing: Routing) -> None:
    if routing.status is not RoutingStatus.DRAFT:
        raise InvalidTransition(
            _(
                "Version %(version)d of this routing is %(status)s; create a new version to change it.",
                version=routing.version,
                status=status_label(routing.status),
            ),
            current_state=routing.status.value,
        )


def update_routing(
    session: Session, routing: Routing, *, steps: list[dict[str, Any]] | None = None, notes: Any = ...
) -> Routing:
    """Change a draft; its operations are replaced as a whole when ``steps`` is given."""
    _require_draft(routing)
    if steps is not None:
        _check_steps(steps)
        routing.steps.clear()
        session.flush()  # the old steps go before the new ones reuse their sequence numbers
        routing.steps.extend(_build_steps(steps))
    if notes is not ...:
        routing.notes = notes
    session.flush()
    return routing


def new_version(session: Session, routing: Routing) -> Routing:
    """A draft copy of a routing version, to be edited and activated in its place."""
    copy = Routing(product=routing.product, version=_next_version(session, routing.product), notes=routing.notes)
    for step in routing.steps:
        copy.steps.append(
            RoutingStep(
                sequence=step.sequence,
                name=step.name,
                work_center=step.work_center,
                setup_minutes=step.setup_minutes,
                seconds_per_unit=step.seconds_per_unit,
                allow_partial=step.allow_partial,
                machines=[
                    RoutingStepMachine(machine=m.machine, seconds_per_unit=m.seconds_per_unit) for m in step.machines
                ],
            )
        )
    session.add(copy)
    session.flush()
    return copy


def activate_routing(session: Session, routing: Routing) -> Routing:
    """Make a draft the version new releases use; the version it replaces is archived."""
    _require_draft(routing)
    if not routing.steps:
        raise ValidationFailed(_("A routing needs at least one operation."), errors={"steps": [_("Add an operation.")]})
    current = active_routing(session, routing.product)
    if current is not None:
        current.status = RoutingStatus.ARCHIVED
    routing.status = RoutingStatus.ACTIVE
    routing.activated_at = utcnow()
    session.flush()
    return routing


def delete_routing(session: Session, routing: Routing) -> None:
    """Delete a draft no order names."""
    _require_draft(routing)
    if session.scalar(sa.select(WorkOrder.id).where(WorkOrder.routing_id == routing.id).limit(1)) is not None:
        raise Conflict(_("Work orders name this routing version; it cannot be deleted."))
    session.delete(routing)
    session.flush()
