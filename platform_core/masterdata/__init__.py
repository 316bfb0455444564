"""Shared master data every app reads: the factory's data dictionary.

Workshops, work centers, machines, units, product families, products, shift calendars with their exceptions,
reason codes and employees; with an API, pages for tenant administrators and spreadsheet import/export.
"""

from __future__ import annotations


def init_app(app, api) -> None:
    """Register the master-data API and pages."""
    from platform_core.masterdata import api as masterdata_api
    from platform_core.masterdata import views

    api.register_blueprint(masterdata_api.blp)
    app.register_blueprint(views.bp)
