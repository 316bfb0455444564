"""Held lots: quality holds a lot (a nonconformance), and no report may name it until quality releases it.

The orders app never reads quality's tables: it keeps its own list of holds, fed by the ``quality.lot_held`` and
``quality.lot_released`` events (see :mod:`apps.orders.events`). Each hold is one row per lot and
nonconformance, stamped with the events' own times, so a late or repeated delivery cannot undo a newer change.

A held lot blocks what names it (as output or consumed lot) and the next operation's work on it: the lots an
operation takes in are the output lots its previous operation reported, whether the operator types them or not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.orders.models import HeldLot, ReportStatus, WorkReport
from platform_core.errors import Conflict


def normalise(lot: str | None) -> str | None:
    """Lots are compared as written but without surrounding blanks; an empty lot is no lot."""
    lot = (lot or "").strip()
    return lot or None


def _row(session: Session, lot: str, ncr_id: int | None) -> HeldLot | None:
    condition = HeldLot.ncr_id.is_(None) if ncr_id is None else HeldLot.ncr_id == ncr_id
    return session.scalar(sa.select(HeldLot).where(HeldLot.lot == lot, condition))


def record_hold(session: Session, lot: str, *, ncr_id: int | None, reason: str | None, at: dt.datetime) -> None:
    """Quality held ``lot`` at ``at`` (ignored when a release of the same hold happened later)."""
    lot = normalise(lot)
    if lot is None:
        return
    row = _row(session, lot, ncr_id)
    if row is None:
        session.add(HeldLot(lot=lot, ncr_id=ncr_id, reason=reason, held_at=at))
    elif row.held_at is None or at > row.held_at:
        row.held_at, row.reason = at, reason
    session.flush()


def record_release(session: Session, lot: str, *, ncr_id: int | None, at: dt.datetime) -> None:
    """Quality released ``lot`` at ``at``; a release arriving before its hold is kept and wins over it."""
    lot = normalise(lot)
    if lot is None:
        return
    row = _row(session, lot, ncr_id)
    if row is None:
        session.add(HeldLot(lot=lot, ncr_id=ncr_id, released_at=at))
    elif row.released_at is None or at > row.released_at:
        row.released_at = at
    session.flush()


def held_among(session: Session, lots: Iterable[str | None]) -> dict[str, HeldLot]:
    """The lots of ``lots`` that are on hold now, with one of their holds."""
    wanted = {lot for lot in (normalise(x) for x in lots) if lot}
    if not wanted:
        return {}
    rows = session.scalars(sa.select(HeldLot).where(HeldLot.lot.in_(wanted), HeldLot.held_at.is_not(None)))
    return {row.lot: row for row in rows if row.is_held}


def held_lots(session: Session) -> list[HeldLot]:
    """Every lot on hold now, newest hold first."""
    rows = session.scalars(sa.select(HeldLot).where(HeldLot.held_at.is_not(None)).order_by(HeldLot.held_at.desc()))
    return [row for row in rows if row.is_held]


def delivered_lots(session: Session, operation_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """For each operation, the output lots its accepted reports named (newest first, each once)."""
    wanted = set(operation_ids)
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(WorkReport.operation_id, WorkReport.output_lot)
        .where(
            WorkReport.operation_id.in_(wanted),
            WorkReport.output_lot.is_not(None),
            WorkReport.status == ReportStatus.ACCEPTED,
        )
        .order_by(WorkReport.reported_at.desc(), WorkReport.id.desc())
    )
    found: dict[int, list[str]] = {}
    for operation_id, lot in rows:
        named = found.setdefault(operation_id, [])
        if lot not in named:
            named.append(lot)
    return {operation_id: tuple(found.get(operation_id, ())) for operation_id in wanted}


def held_conflict(held: dict[str, HeldLot], *, errors: dict[str, list[str]] | None = None, **extra) -> Conflict:
    """The 409 ``lot_held`` naming the held lots and quality's reasons."""
    names = ", ".join(sorted(held))
    reasons = "; ".join(sorted({row.reason for row in held.values() if row.reason}))
    message = _(
        "Lot %(lots)s is on hold by quality; nothing can be reported on it until quality releases it.", lots=names
    )
    if reasons:
        message += " " + _("Reason: %(reason)s", reason=reasons)
    return Conflict(message, code="lot_held", errors=errors, lots=sorted(held), **extra)


def refuse_held(session: Session, *, output_lot: str | None, consumed_lots: Iterable[str], **extra) -> None:
    """A 409 naming the held lots when a report names any (``extra`` goes into the error body)."""
    consumed = list(consumed_lots)
    held = held_among(session, [output_lot, *consumed])
    if not held:
        return
    errors: dict[str, list[str]] = {}
    for field, lots in (("output_lot", [output_lot]), ("consumed_lots", consumed)):
        for lot in lots:
            if normalise(lot) in held:
                errors.setdefault(field, []).append(_("Lot %(lot)s is on hold.", lot=normalise(lot)))
    raise held_conflict(held, errors=errors, **extra)


def refuse_held_input(session: Session, input_lots: Iterable[str], *, consumed_lots: Iterable[str], **extra) -> None:
    """A 409 when an operation's input lots include a held one and the report does not say it works on a free one.

    A report that leaves the consumed lots empty (or names only other material) may be working on the held lot,
    so it is refused; naming one of the free input lots says which pieces it is about.
    """
    inputs = set(input_lots)
    held = held_among(session, inputs)
    if not held:
        return
    if any(lot in inputs and lot not in held for lot in consumed_lots):
        return
    problem = _("Lot %(lots)s is on hold; name the lot you work on.", lots=", ".join(sorted(held)))
    raise held_conflict(held, errors={"consumed_lots": [problem]}, **extra)


def refuse_only_held_input(session: Session, input_lots: Iterable[str], **extra) -> None:
    """A 409 when every lot an operation could take in is held: starting it could only lead to refused reports."""
    inputs = set(input_lots)
    held = held_among(session, inputs)
    if held and len(held) == len(inputs):
        raise held_conflict(held, **extra)
