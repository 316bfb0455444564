"""Nonconformance reports: raised from a failed inspection, a scrap report or by hand; disposition approved by
quality; 8D-lite actions with owners and due dates; holds on lots. The audit trail records every change.

Workflow: open → proposed (a disposition awaits approval) → dispositioned (approved) → closed, and cancelled
from open or proposed. A rejected proposal goes back to open. The approver is someone other than the proposer
(four eyes). Closing needs every action done, among them a root cause found and a verification that the action
worked; closing or cancelling releases the lots the NCR still holds.

Services take ``by``, the name shown on the records, and ``actor``, the account acting (unique, what four-eyes
rules compare); ``actor`` is ``by`` when not given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.quality import holds, production
from apps.quality.common import Problems, scrap_codes
from apps.quality.inspections import passes
from apps.quality.labels import ACTION_STEP, NCR_STATUS, label
from apps.quality.models import (
    ActionStatus,
    ActionStep,
    CharacteristicKind,
    Disposition,
    Inspection,
    Lot,
    NcrAction,
    NcrSource,
    NcrStatus,
    Nonconformance,
)
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition, PermissionDenied
from platform_core.identity.models import Employee, User
from platform_core.masterdata.models import Machine, Product
from platform_core.numbering import next_number

EDITABLE = ("title", "description", "quantity", "defect_codes", "due_date")
FINISHED = (NcrStatus.CLOSED, NcrStatus.CANCELLED)
# The 8D-lite steps an NCR cannot be closed without, each done with its result: what caused the nonconformance,
# and the evidence that the action taken removed it.
REQUIRED_STEPS = (ActionStep.CAUSE, ActionStep.VERIFICATION)


def raise_ncr(
    session: Session,
    *,
    by: str,
    source: NcrSource = NcrSource.MANUAL,
    title: str | None = None,
    description: str | None = None,
    product: Product | None = None,
    quantity: int | None = None,
    defect_codes: list[str] | None = None,
    lot_code: str | None = None,
    inspection: Inspection | None = None,
    order_id: int | None = None,
    operation_id: int | None = None,
    machine: Machine | None = None,
    operator: Employee | None = None,
    due_date: dt.date | None = None,
    hold_lot: bool = False,
    event_id: str | None = None,
    actor: str | None = None,
) -> Nonconformance:
    """A new open NCR; from an inspection its context (product, lot, order, machine, operator) is copied.

    A lot named by code must be one quality knows (from reports, inspections or other NCRs): a mistyped code is
    refused rather than recorded (and held) as a lot that does not exist.
    """
    problems = Problems()
    ncr = Nonconformance(source=source, description=description, due_date=due_date, event_id=event_id, raised_by=by)
    if inspection is not None:
        ncr.source = NcrSource.INSPECTION
        _from_inspection(ncr, inspection)
    else:
        order = production.order_of(session, order_id)
        if order_id is not None and order is None and source is NcrSource.MANUAL:
            problems.add("order_id", _("No released order with this id is known to quality."))
        operation = production.operation_of(session, operation_id)
        if operation_id is not None and operation is None and source is NcrSource.MANUAL:
            problems.add("operation_id", _("No operation with this id is known to quality."))
        ncr.product = product or (order.product if order else None)
        ncr.order_id, ncr.order_number = order_id, order.number if order else None
        ncr.operation_id, ncr.operation_sequence = operation_id, operation.sequence if operation else None
        ncr.machine, ncr.operator = machine, operator
        ncr.lot = _known_lot(session, lot_code, problems)
    if quantity is not None:
        ncr.quantity = quantity
    if defect_codes is not None:
        ncr.defect_codes = list(dict.fromkeys(defect_codes))
    unknown = scrap_codes(session, ncr.defect_codes or [])
    if unknown:
        problems.add("defect_codes", _("Unknown defect codes: %(codes)s.", codes=", ".join(unknown)))
    if hold_lot and ncr.lot is None and "lot" not in problems:
        problems.add("hold_lot", _("Name the lot to hold."))
    problems.raise_if_any(_("This NCR cannot be raised."))
    ncr.title = title or _default_title(ncr)
    ncr.number = next_number(session, Nonconformance, f"NCR-{utcnow():%y}-", width=4)
    session.add(ncr)
    session.flush()
    if hold_lot:
        holds.hold(session, ncr.lot, ncr, reason=f"{ncr.number} {ncr.title}", by=by, actor=actor)
    return ncr


def lot_to_hold(session: Session, code: str | None) -> Lot | None:
    """The lot of that code if quality knows it (None for no code); a 422 naming the ``lot`` field otherwise."""
    problems = Problems()
    lot = _known_lot(session, code, problems)
    problems.raise_if_any(_("This lot cannot be held."))
    return lot


def _known_lot(session: Session, code: str | None, problems: Problems) -> Lot | None:
    code = production.clean_lot(code)
    if code is None:
        return None
    lot = production.find_lot(session, code)
    if lot is None:
        problems.add("lot", _("No lot %(code)s is known to quality: check the code.", code=code))
    return lot


def _from_inspection(ncr: Nonconformance, inspection: Inspection) -> None:
    ncr.inspection = inspection
    ncr.product_id = inspection.product_id
    ncr.lot = inspection.lot
    ncr.order_id, ncr.order_number = inspection.order_id, inspection.order_number
    ncr.operation_id, ncr.operation_sequence = inspection.operation_id, inspection.operation_sequence
    ncr.machine_id, ncr.operator_id = inspection.machine_id, inspection.operator_id
    failed = [r for r in inspection.results if not r.passed]
    codes: list[str] = []
    pieces = 0
    for result in failed:
        if result.characteristic.kind is CharacteristicKind.ATTRIBUTE:
            codes.extend(result.defect_counts or {})
            pieces = max(pieces, result.defectives or 0)
        else:
            pieces = max(pieces, sum(1 for v in result.values if not passes(result.characteristic, v)))
    ncr.defect_codes = list(dict.fromkeys(codes))
    ncr.quantity = pieces
    names = ", ".join(r.characteristic.name for r in failed)
    ncr.description = ncr.description or _(
        "Inspection %(number)s failed: %(names)s.", number=inspection.number, names=names
    )


def _default_title(ncr: Nonconformance) -> str:
    if ncr.inspection is not None:
        return _("Failed inspection %(number)s", number=ncr.inspection.number)
    if ncr.source is NcrSource.SCRAP:
        return _("Scrap reported on order %(order)s", order=ncr.order_number or ncr.order_id or "-")
    return _("Nonconformance")


def update_ncr(session: Session, ncr: Nonconformance, data: dict[str, Any]) -> Nonconformance:
    _not_finished(ncr)
    problems = Problems()
    if "defect_codes" in data:
        unknown = scrap_codes(session, data["defect_codes"] or [])
        if unknown:
            problems.add("defect_codes", _("Unknown defect codes: %(codes)s.", codes=", ".join(unknown)))
    problems.raise_if_any()
    for key in EDITABLE:
        if key in data:
            setattr(ncr, key, data[key])
    ncr.version += 1
    session.flush()
    return ncr


def propose(
    session: Session,
    ncr: Nonconformance,
    *,
    disposition: Disposition,
    note: str | None,
    by: str,
    actor: str | None = None,
):
    _require(ncr, (NcrStatus.OPEN,), _("A disposition can be proposed on an open NCR only."))
    ncr.disposition, ncr.disposition_note = disposition, note
    ncr.proposed_by, ncr.proposed_by_actor, ncr.proposed_at = by, actor or by, utcnow()
    return _moved(session, ncr, NcrStatus.PROPOSED)


def approve(session: Session, ncr: Nonconformance, *, by: str, actor: str | None = None, note: str | None = None):
    """Approve the proposed disposition: by someone other than the proposer, so that two people decided it."""
    _require(ncr, (NcrStatus.PROPOSED,), _("Only a proposed disposition can be approved."))
    if ncr.proposed_by_actor is not None and ncr.proposed_by_actor == (actor or by):
        raise PermissionDenied(_("You proposed this disposition: someone else must approve it."), code="four_eyes")
    ncr.approved_by, ncr.approved_at = by, utcnow()
    if note:
        ncr.disposition_note = f"{ncr.disposition_note}\n{note}" if ncr.disposition_note else note
    return _moved(session, ncr, NcrStatus.DISPOSITIONED)


def reject(session: Session, ncr: Nonconformance, *, by: str, note: str | None = None):
    """Send a proposal back: the NCR is open again and the rejected proposal is kept in the audit trail."""
    _require(ncr, (NcrStatus.PROPOSED,), _("Only a proposed disposition can be rejected."))
    ncr.disposition = ncr.proposed_by = ncr.proposed_by_actor = ncr.proposed_at = None
    ncr.disposition_note = note
    return _moved(session, ncr, NcrStatus.OPEN)


def close(session: Session, ncr: Nonconformance, *, by: str, actor: str | None = None):
    """Close an NCR whose disposition is approved, once its actions are done, root cause and verification among
    them."""
    _require(ncr, (NcrStatus.DISPOSITIONED,), _("An NCR is closed after its disposition is approved."))
    open_steps = [a for a in ncr.actions if a.status is ActionStatus.OPEN]
    if open_steps:
        raise Conflict(
            _("%(count)s action(s) are not done yet.", count=len(open_steps)),
            code="actions_open",
            current_state=ncr.status,
        )
    missing = missing_steps(ncr)
    if missing:
        raise Conflict(
            _(
                "Record these 8D steps, done with their result, before closing: %(steps)s.",
                steps=", ".join(label(ACTION_STEP, step) for step in missing),
            ),
            code="steps_missing",
            current_state=ncr.status,
        )
    holds.release_all(session, ncr, by=by, actor=actor, note=_("NCR %(number)s closed.", number=ncr.number))
    ncr.closed_at = utcnow()
    return _moved(session, ncr, NcrStatus.CLOSED)


def missing_steps(ncr: Nonconformance) -> list[ActionStep]:
    """The required 8D-lite steps that no done action of the NCR records yet."""
    recorded = {a.step for a in ncr.actions if a.status is ActionStatus.DONE}
    return [step for step in REQUIRED_STEPS if step not in recorded]


def cancel(session: Session, ncr: Nonconformance, *, by: str, actor: str | None = None, note: str | None = None):
    _require(ncr, (NcrStatus.OPEN, NcrStatus.PROPOSED), _("Only an open NCR can be cancelled."))
    holds.release_all(session, ncr, by=by, actor=actor, note=note or _("NCR %(number)s cancelled.", number=ncr.number))
    ncr.closed_at = utcnow()
    if note:
        ncr.disposition_note = note
    return _moved(session, ncr, NcrStatus.CANCELLED)


def hold_lot(
    session: Session, ncr: Nonconformance, lot: Lot, *, by: str, actor: str | None = None, reason: str | None = None
):
    _not_finished(ncr)
    if ncr.lot is None:
        ncr.lot = lot
    return holds.hold(session, lot, ncr, reason=reason or f"{ncr.number} {ncr.title}", by=by, actor=actor)


def add_action(
    session: Session,
    ncr: Nonconformance,
    *,
    step: ActionStep,
    description: str,
    owner: User | None = None,
    due_date: dt.date | None = None,
) -> NcrAction:
    _not_finished(ncr)
    action = NcrAction(step=step, description=description, owner=owner, due_date=due_date)
    ncr.actions.append(action)
    ncr.version += 1
    session.flush()
    return action


def complete_action(session: Session, action: NcrAction, *, result: str | None) -> NcrAction:
    """Mark an action done; a root cause or a verification is done only with its result (what was found)."""
    _not_finished(action.ncr)
    if action.status is ActionStatus.DONE:
        raise InvalidTransition(_("This action is already done."), current_state=action.status)
    if action.step in REQUIRED_STEPS and not (result or "").strip():
        problems = Problems()
        problems.add("result", _("Record the result: the cause found, or how the action was shown to work."))
        problems.raise_if_any(_("This action cannot be marked done."))
    action.status, action.result, action.done_at = ActionStatus.DONE, result, utcnow()
    action.ncr.version += 1
    session.flush()
    return action


def _require(ncr: Nonconformance, allowed: tuple[NcrStatus, ...], message: str) -> None:
    if ncr.status not in allowed:
        raise InvalidTransition(message, current_state=ncr.status)


def _not_finished(ncr: Nonconformance) -> None:
    if ncr.status in FINISHED:
        raise InvalidTransition(
            _("NCR %(number)s is %(status)s.", number=ncr.number, status=label(NCR_STATUS, ncr.status)),
            current_state=ncr.status,
        )


def _moved(session: Session, ncr: Nonconformance, status: NcrStatus) -> Nonconformance:
    ncr.status = status
    ncr.version += 1
    session.flush()
    return ncr
