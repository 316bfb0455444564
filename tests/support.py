"""Helpers shared by the test modules."""

from __future__ import annotations

import os

import pytest

STRICT_ENV = "MES_TEST_STRICT"


def strict() -> bool:
    """True when every optional backend (PostgreSQL, MQTT broker, Chromium) is required, as in CI."""
    return os.environ.get(STRICT_ENV) == "1"


def unavailable(reason: str) -> None:
    """Skip a test whose backend is missing on this machine, or fail it when the run is strict."""
    if strict():
        pytest.fail(f"required for this run but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)
