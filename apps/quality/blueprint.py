"""Quality pages: the dashboard, the inspector's tablet flow, NCRs, control charts, traces, KPIs and plans.

Routes live in :mod:`apps.quality.pages`; path parameters have the same names as in the API
(``inspection_task_id``, ``ncr_id`` ...), and every route loads its records through the tenant filter (404 for
another factory's ids) before it reads a form.
"""

from __future__ import annotations

from apps.quality.pages import board, charts, inspect, ncrs, plans, trace  # noqa: F401 - their routes register on bp
from apps.quality.pages.common import bp

__all__ = ["bp"]
