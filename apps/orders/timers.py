"""Operation timers from server timestamps only, so they survive reloads, device changes and wrong tablet clocks.

An operation keeps the seconds of its closed running and paused intervals; the open interval runs from
``status_since``. A transition closes the open interval at the server's time of the transition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.orders.models import Operation, OperationStatus


@dataclass(frozen=True)
class Elapsed:
    running_s: float
    paused_s: float
    since: dt.datetime | None  # start of the current (open) interval, None when no interval is open


def elapsed(operation: Operation, now: dt.datetime) -> Elapsed:
    """Running and paused seconds of an operation up to ``now``."""
    running, paused = operation.accumulated_running_s, operation.accumulated_paused_s
    since = operation.status_since
    if since is not None and now > since:
        open_seconds = (now - since).total_seconds()
        if operation.status is OperationStatus.RUNNING:
            running += open_seconds
        elif operation.status is OperationStatus.PAUSED:
            paused += open_seconds
    open_interval = operation.status in (OperationStatus.RUNNING, OperationStatus.PAUSED)
    return Elapsed(running_s=running, paused_s=paused, since=since if open_interval else None)


def close_interval(operation: Operation, now: dt.datetime) -> None:
    """Add the open interval to the accumulated seconds; the caller then sets the new status and ``status_since``.

    A transition stamped before the open interval began (two servers with drifting clocks) adds nothing rather
    than a negative time.
    """
    since = operation.status_since
    if since is None:
        return
    seconds = max(0.0, (now - since).total_seconds())
    if operation.status is OperationStatus.RUNNING:
        operation.accumulated_running_s += seconds
    elif operation.status is OperationStatus.PAUSED:
        operation.accumulated_paused_s += seconds
