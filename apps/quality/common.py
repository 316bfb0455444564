"""Small helpers shared by the quality services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from platform_core.db import current_actor
from platform_core.errors import ValidationFailed
from platform_core.masterdata.models import Product, ReasonCode, ReasonKind


def acting_name() -> str:
    """How the person acting in this request is named on the records they make (the tablet's employee first)."""
    from platform_core.identity.auth import current_principal

    principal = current_principal()
    if principal.employee is not None:
        return principal.employee.name
    if principal.user is not None:
        return principal.user.display_name
    return principal.actor.label


def acting_account() -> str:
    """Who is acting in this request as one unique name (the signed-in username, or the token's): four-eyes
    rules compare it, because display names and employee names may repeat."""
    from platform_core.identity.auth import current_principal

    return current_principal().actor.label


def actor_label(session: Session) -> str:
    """Who is acting, as the audit trail names them."""
    return current_actor(session).label


class Problems(dict):
    """Field errors collected before raising one 422 (``{"json": {field: [messages]}}``)."""

    def add(self, field: str | tuple, message: str) -> None:
        node: dict[str, Any] = self
        path = field if isinstance(field, tuple) else (field,)
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        node.setdefault(str(path[-1]), []).append(message)

    def raise_if_any(self, message: str | None = None) -> None:
        if self:
            raise ValidationFailed(message or _("Some fields are not valid."), errors={"json": dict(self)})


def scrap_codes(session: Session, codes: Iterable[str]) -> list[str]:
    """The codes among ``codes`` that are not scrap/defect reasons of the factory."""
    wanted = set(codes)
    if not wanted:
        return []
    known = set(
        session.scalars(
            sa.select(ReasonCode.code).where(ReasonCode.kind == ReasonKind.SCRAP, ReasonCode.code.in_(wanted))
        )
    )
    return sorted(wanted - known)


def defect_labels(session: Session, locale: str) -> dict[str, str]:
    """Scrap/defect reason code -> its name in the reader's language."""
    rows = session.scalars(sa.select(ReasonCode).where(ReasonCode.kind == ReasonKind.SCRAP))
    return {row.code: row.label(locale) for row in rows}


def product_by_code(session: Session, code: str | None) -> Product | None:
    if not code:
        return None
    return session.scalar(sa.select(Product).where(Product.code == code))
