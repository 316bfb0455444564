"""A factory's quality settings and the unit costs used by the scrap-cost KPI."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.quality.models import PHOTO_MAX_KB, SCRAP_NCR_MINIMUM, ProductCost, QualitySettings
from platform_core.masterdata.models import Product

FIELDS = ("ncr_from_scrap", "scrap_ncr_minimum", "photo_max_kb")


def get_settings(session: Session) -> QualitySettings:
    """The factory's settings; the defaults until someone changes them (the row is created then)."""
    settings = session.scalar(sa.select(QualitySettings))
    if settings is None:
        settings = QualitySettings(
            ncr_from_scrap=True, scrap_ncr_minimum=SCRAP_NCR_MINIMUM, photo_max_kb=PHOTO_MAX_KB, version=1
        )
    return settings


def update_settings(session: Session, data: dict) -> QualitySettings:
    settings = get_settings(session)
    for key in FIELDS:
        if key in data:
            setattr(settings, key, data[key])
    settings.version = (settings.version or 1) + 1 if settings.id else 1
    session.add(settings)
    session.flush()
    return settings


def set_unit_cost(session: Session, product: Product, unit_cost: float, currency: str = "CNY") -> ProductCost:
    cost = session.scalar(sa.select(ProductCost).where(ProductCost.product_id == product.id))
    if cost is None:
        cost = ProductCost(product=product)
        session.add(cost)
    cost.unit_cost, cost.currency = unit_cost, currency
    session.flush()
    return cost


def unit_costs() -> sa.Select:
    return sa.select(ProductCost).join(Product, Product.id == ProductCost.product_id).order_by(Product.code)
