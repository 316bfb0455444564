"""Shared master data every app reads: the factory's data dictionary."""

from __future__ import annotations


def init_app(app, api) -> None:
    """Register the master-data API and pages."""
