"""Subscribers to other apps' events: quality's lot holds feed the orders app's list of held lots."""

from __future__ import annotations

from sqlalchemy.orm import Session

from apps.orders import lots
from platform_core.events import Event


def on_lot_held(session: Session, event: Event) -> None:
    """``quality.lot_held``: refuse reports naming the lot from now on."""
    payload = event.payload
    lots.record_hold(
        session, payload["lot"], ncr_id=payload.get("ncr_id"), reason=payload.get("reason"), at=event.occurred_at
    )


def on_lot_released(session: Session, event: Event) -> None:
    """``quality.lot_released``: reports may name the lot again (unless another nonconformance holds it)."""
    payload = event.payload
    lots.record_release(session, payload["lot"], ncr_id=payload.get("ncr_id"), at=event.occurred_at)
