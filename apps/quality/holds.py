"""Lot holds: an NCR holds a lot, quality releases it; the orders app hears both and refuses reports meanwhile.

Published events (``platform_core.events``): ``quality.lot_held`` {lot, ncr_id, reason} and
``quality.lot_released`` {lot, ncr_id}, with the lot's code as the orders app's reports name it. The orders
app keeps one hold per (lot, NCR), so a lot held by two NCRs stays held until both release it.

Who may release (besides holding ``quality.disposition``): once the NCR's disposition is approved, anyone — two
people have already decided what happens to the material. Before that, releasing is itself that decision, so it
takes a second person: whoever placed the hold cannot release it alone (nor free it by cancelling the NCR).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from apps.quality.models import Lot, LotHold, NcrStatus, Nonconformance
from platform_core import events
from platform_core.db import utcnow
from platform_core.errors import InvalidTransition, PermissionDenied

MAX_REASON = 300


def hold(session: Session, lot: Lot, ncr: Nonconformance, *, reason: str, by: str, actor: str | None = None) -> LotHold:
    """Hold ``lot`` under ``ncr`` (again, if it was released before) and announce it.

    ``by`` is the name shown on the hold; ``actor`` the account placing it (``by`` when not given).
    """
    record = session.scalar(sa.select(LotHold).where(LotHold.lot_id == lot.id, LotHold.ncr_id == ncr.id))
    if record is not None and record.active:
        return record
    now = utcnow()
    reason = reason[:MAX_REASON]
    if record is None:
        record = LotHold(lot=lot, ncr=ncr)
        session.add(record)
    record.reason, record.held_by, record.held_by_actor, record.held_at = reason, by, actor or by, now
    record.released_at = record.released_by = record.release_note = None
    session.flush()
    events.publish(
        session,
        "quality.lot_held",
        {"lot": lot.code, "ncr_id": ncr.id, "reason": reason, "ncr_number": ncr.number, "held_at": now.isoformat()},
    )
    return record


def release(
    session: Session, record: LotHold, *, by: str, actor: str | None = None, note: str | None = None
) -> LotHold:
    """Release a hold and announce it; reports on the lot are allowed again unless another NCR holds it."""
    if not record.active:
        raise InvalidTransition(
            _("Lot %(lot)s is not held by this NCR.", lot=record.lot.code), current_state="released"
        )
    _check_second_person(record, actor or by)
    record.released_at, record.released_by, record.release_note = utcnow(), by, note
    session.flush()
    events.publish(
        session,
        "quality.lot_released",
        {
            "lot": record.lot.code,
            "ncr_id": record.ncr_id,
            "ncr_number": record.ncr.number,
            "released_at": record.released_at.isoformat(),
        },
    )
    return record


def _check_second_person(record: LotHold, actor: str) -> None:
    if record.ncr.status is NcrStatus.DISPOSITIONED or record.held_by_actor != actor:
        return
    raise PermissionDenied(
        _(
            "You put lot %(lot)s on hold: until a disposition of %(ncr)s is approved, someone else must release it.",
            lot=record.lot.code,
            ncr=record.ncr.number,
        ),
        code="four_eyes",
    )


def release_all(session: Session, ncr: Nonconformance, *, by: str, note: str, actor: str | None = None) -> int:
    """Release every hold an NCR still has (when it is closed or cancelled)."""
    active = [h for h in ncr.holds if h.active]
    for record in active:
        release(session, record, by=by, actor=actor, note=note)
    return len(active)


def active_holds() -> sa.Select:
    return (
        sa.select(LotHold)
        .where(LotHold.released_at.is_(None))
        .options(selectinload(LotHold.lot), selectinload(LotHold.ncr))
        .order_by(LotHold.held_at.desc())
    )


def holds_of(session: Session, lot: Lot) -> list[LotHold]:
    return list(session.scalars(sa.select(LotHold).where(LotHold.lot_id == lot.id).order_by(LotHold.held_at.desc())))


def is_held(session: Session, lot: Lot) -> bool:
    statement = sa.select(LotHold.id).where(LotHold.lot_id == lot.id, LotHold.released_at.is_(None)).limit(1)
    return session.scalar(statement) is not None
