"""The factory's orders settings, and the over-delivery limit they imply."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.orders.models import OrdersSettings
from platform_core.errors import ValidationFailed


def get_settings(session: Session) -> OrdersSettings:
    """The factory's settings; defaults (not stored) until someone changes them."""
    stored = session.scalar(sa.select(OrdersSettings))
    return stored if stored is not None else OrdersSettings(over_tolerance_pct=0.0)


def update_settings(session: Session, *, over_tolerance_pct: float | None = None) -> OrdersSettings:
    settings = session.scalar(sa.select(OrdersSettings))
    if settings is None:
        settings = OrdersSettings(over_tolerance_pct=0.0)
        session.add(settings)
    if over_tolerance_pct is not None:
        if not 0 <= over_tolerance_pct <= 100:
            raise ValidationFailed(
                _("The tolerance is a percentage from 0 to 100."), errors={"over_tolerance_pct": [_("From 0 to 100.")]}
            )
        settings.over_tolerance_pct = over_tolerance_pct
    session.flush()
    return settings


def quantity_limit(planned: int, over_tolerance_pct: float) -> int:
    """The most good + scrap an operation may report without approval: planned plus the tolerance, rounded down.

    Computed in decimals: 300 pieces at 7 % is 321, where binary floats would give 320.99999999999994.
    """
    percent = Decimal(str(over_tolerance_pct))
    return int(Decimal(planned) * (Decimal(100) + percent) // Decimal(100))
