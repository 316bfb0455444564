"""Roles and permissions: the one role → permission matrix of the product.

Apps declare the permissions they check (``AppManifest.permissions``); this module decides which tenant role
holds which of them. Patterns use shell wildcards (``"*.view"``). The registry refuses to start when a pattern
matches no declared permission or a declared permission is held by no role, so the matrix cannot drift from
the code. ``mes roles`` prints the resolved matrix; docs/architecture.md shows it too.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    """Roles a user can hold inside one tenant. Platform operators are a global flag on the user instead."""

    TENANT_ADMIN = "tenant_admin"
    PLANNER = "planner"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    QUALITY_INSPECTOR = "quality_inspector"
    MAINTENANCE_TECHNICIAN = "maintenance_technician"
    VIEWER = "viewer"


ROLE_LABELS = {
    Role.TENANT_ADMIN: _l("Tenant administrator"),
    Role.PLANNER: _l("Production planner"),
    Role.SUPERVISOR: _l("Shift supervisor"),
    Role.OPERATOR: _l("Operator"),
    Role.QUALITY_INSPECTOR: _l("Quality inspector"),
    Role.MAINTENANCE_TECHNICIAN: _l("Maintenance technician"),
    Role.VIEWER: _l("Viewer"),
}


@dataclass(frozen=True)
class Permission:
    """A named right an app checks, e.g. ``orders.report_work``."""

    name: str
    label: str


PLATFORM_PERMISSIONS = (
    Permission("admin.manage_users", _l("Manage users, roles and PINs")),
    Permission("admin.manage_tokens", _l("Manage API tokens")),
    Permission("admin.manage_webhooks", _l("Manage webhooks and read their delivery log")),
    Permission("admin.view_audit", _l("Read the audit trail")),
    Permission("admin.view_jobs", _l("Follow and cancel background jobs")),
    Permission("admin.view_master_data", _l("View master data (machines, products, calendars, reasons, employees)")),
    Permission("admin.manage_master_data", _l("Change and import master data")),
)

MATRIX: dict[Role, tuple[str, ...]] = {
    Role.TENANT_ADMIN: ("*",),
    Role.PLANNER: ("*.view", "orders.manage", "scheduling.plan", "scheduling.publish", "admin.view_master_data"),
    Role.SUPERVISOR: (
        "*.view",
        "orders.report_work",
        "orders.supervise",
        "equipment.report_downtime",
        "admin.view_master_data",
    ),
    Role.OPERATOR: ("orders.view", "equipment.view", "orders.report_work", "equipment.report_downtime"),
    Role.QUALITY_INSPECTOR: (
        "orders.view",
        "quality.view",
        "quality.inspect",
        "quality.disposition",
        "quality.configure",  # in a small factory the inspector also keeps the plans and control limits
        "admin.view_master_data",
    ),
    Role.MAINTENANCE_TECHNICIAN: (
        "orders.view",
        "equipment.view",
        "equipment.report_downtime",
        "equipment.maintain",
        "admin.view_master_data",
    ),
    Role.VIEWER: ("*.view", "admin.view_master_data"),
}


def resolve_matrix(declared: Iterable[str]) -> dict[Role, frozenset[str]]:
    """Expand the patterns against the declared permissions; raise if the matrix and the code disagree."""
    declared = sorted(set(declared))
    resolved: dict[Role, frozenset[str]] = {}
    for role, patterns in MATRIX.items():
        granted: set[str] = set()
        for pattern in patterns:
            matches = fnmatch.filter(declared, pattern)
            if not matches:
                raise RuntimeError(f"role {role}: pattern {pattern!r} matches no declared permission")
            granted.update(matches)
        resolved[role] = frozenset(granted)
    unheld = set(declared) - set().union(*resolved.values())
    if unheld:
        raise RuntimeError(f"permissions held by no role: {sorted(unheld)}")
    return resolved
