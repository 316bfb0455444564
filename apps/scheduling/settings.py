"""The factory's planning settings and changeover times, with their limits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.scheduling.models import Preset, SchedulingSettings, SetupTime
from platform_core.errors import ValidationFailed
from platform_core.masterdata.models import ProductFamily

# field -> (lowest, highest) allowed; the API schema and the settings page use the same limits
LIMITS: dict[str, tuple[int, int]] = {
    "time_limit_s": (1, 3600),
    "repair_time_limit_s": (1, 600),
    "horizon_days": (1, 90),
    "frozen_minutes": (0, 1440),
    "changeover_minutes": (0, 1440),
    "transfer_batch": (1, 1_000_000),
    "unknown_down_minutes": (15, 10080),
    "slippage_minutes": (5, 1440),
    "rush_priority": (0, 9),
}
FLAGS = ("allow_pause", "auto_repair", "auto_publish_repairs")
DEFAULTS: dict[str, Any] = {
    "preset": Preset.ON_TIME,
    "time_limit_s": 30,
    "repair_time_limit_s": 15,
    "horizon_days": 21,
    "frozen_minutes": 30,
    "allow_pause": True,
    "changeover_minutes": 0,
    "transfer_batch": 20,
    "unknown_down_minutes": 240,
    "auto_repair": True,
    "auto_publish_repairs": False,
    "slippage_minutes": 60,
    "rush_priority": 1,
    "version": 1,
}


def get_settings(session: Session) -> SchedulingSettings:
    """The factory's settings; the defaults (not stored) until someone changes them."""
    stored = session.scalar(sa.select(SchedulingSettings))
    return stored if stored is not None else SchedulingSettings(**DEFAULTS)


def update_settings(session: Session, **changes: Any) -> SchedulingSettings:
    """Change some settings; every value is checked against its limits first (nothing is half-written)."""
    errors = {}
    for name, value in changes.items():
        if name in LIMITS:
            low, high = LIMITS[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[name] = [_("From %(low)d to %(high)d.", low=low, high=high)]
        elif name == "preset":
            if value not in set(Preset):
                errors[name] = [_("Not a known objective.")]
        elif name in FLAGS:
            if not isinstance(value, bool):
                errors[name] = [_("Yes or no.")]
        else:
            errors[name] = [_("Unknown field.")]
    if errors:
        raise ValidationFailed(_("Some settings are not valid; nothing was changed."), errors=errors)
    settings = session.scalar(sa.select(SchedulingSettings))
    if settings is None:
        settings = SchedulingSettings(**DEFAULTS)
        session.add(settings)
    for name, value in changes.items():
        setattr(settings, name, Preset(value) if name == "preset" else value)
    settings.version = (settings.version or 1) + 1
    session.flush()
    return settings


# --- changeover times ---------------------------------------------------------------------------------------------


def setup_times(session: Session) -> list[SetupTime]:
    return list(session.scalars(sa.select(SetupTime).order_by(SetupTime.from_family_id, SetupTime.to_family_id)))


def set_setup_time(session: Session, from_family: ProductFamily, to_family: ProductFamily, minutes: int) -> SetupTime:
    """Record (or change) the changeover time from one family to another."""
    low, high = 0, 10080
    if not low <= minutes <= high:
        raise ValidationFailed(
            _("A changeover takes from %(low)d to %(high)d minutes.", low=low, high=high),
            errors={"minutes": [_("From %(low)d to %(high)d.", low=low, high=high)]},
        )
    row = session.scalar(
        sa.select(SetupTime).where(SetupTime.from_family_id == from_family.id, SetupTime.to_family_id == to_family.id)
    )
    if row is None:
        row = SetupTime(from_family=from_family, to_family=to_family, minutes=minutes)
        session.add(row)
    else:
        row.minutes = minutes
    session.flush()
    return row


def delete_setup_time(session: Session, row: SetupTime) -> None:
    session.delete(row)
    session.flush()


def setup_matrix_codes(session: Session) -> dict[tuple[str, str], int]:
    """The changeover times keyed by family codes, as the engine reads them."""
    rows = session.scalars(sa.select(SetupTime)).all()
    families = {f.id: f.code for f in session.scalars(sa.select(ProductFamily))}
    return {(families[r.from_family_id], families[r.to_family_id]): r.minutes for r in rows}
