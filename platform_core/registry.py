"""The app registry: every app under ``apps/`` plugs into the platform through one ``AppManifest``.

``create_app`` loads the packages named in ``INSTALLED_APPS``; each has a ``manifest`` module exposing
``manifest`` (kept out of the package ``__init__`` so that pure sub-packages such as the scheduling solver
import without Flask). The registry
registers the app's web blueprint under ``/<name>`` and its API blueprint under ``/api/v1/<name>``, guards both
so that a tenant without the app enabled gets 404, collects permissions, navigation, event subscriptions and
background jobs, and checks declared dependencies between apps.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, request

from platform_core import rbac


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation, shown when the app is enabled and the user holds ``permission``."""

    endpoint: str
    label: Any
    permission: str
    icon: str = "•"


@dataclass(frozen=True)
class JobSpec:
    """A periodic background job run by the worker (``mes worker``)."""

    name: str
    func: Callable[..., Any]
    seconds: int


@dataclass(frozen=True)
class AppManifest:
    """Everything the platform needs to know about an app."""

    name: str
    label: Any
    description: Any = ""
    icon: str = "▣"
    web: Blueprint | None = None
    api: Blueprint | None = None  # an ApiBlueprint (flask-smorest)
    permissions: tuple[rbac.Permission, ...] = ()
    nav: tuple[NavEntry, ...] = ()
    subscriptions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    jobs: tuple[JobSpec, ...] = ()  # periodic jobs, run by the leader worker
    queue_handlers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)  # job kind -> handler(ctx)
    # Long-running loops (e.g. an MQTT subscriber) run by the leader worker: service(app, stop_event) returns
    # when stop_event is set; the leader starts them on taking over and stops them when stepping down.
    leader_services: tuple[Callable[..., None], ...] = ()
    depends_on: tuple[str, ...] = ()
    commands: tuple[Any, ...] = ()  # click commands added to ``mes``
    models: str | None = None  # module imported so that the app's tables join the shared metadata
    # The app's own settings and their defaults (EQUIPMENT_...): merged into app.config unless already set, so
    # MES_<NAME> environment variables override them like any platform setting (docs/operations.md lists them).
    settings: Mapping[str, Any] = field(default_factory=dict)
    demo: Callable[..., None] | None = None  # demo(session, tenant): seeds the demo factory's data for this app
    # Stories played on the demo factory (mes demo --scenario NAME): play(tenant_id, say, time_limit_s)
    scenarios: Mapping[str, Callable[..., None]] = field(default_factory=dict)

    @property
    def landing_endpoint(self) -> str:
        return self.nav[0].endpoint if self.nav else f"{self.name}.index"


class Registry:
    """The installed apps of one Flask application, in dependency order."""

    def __init__(self, manifests: list[AppManifest]) -> None:
        names = {m.name for m in manifests}
        for manifest in manifests:
            missing = set(manifest.depends_on) - names
            if missing:
                raise RuntimeError(f"app {manifest.name} depends on apps that are not installed: {sorted(missing)}")
        self.apps: dict[str, AppManifest] = {m.name: m for m in manifests}
        declared = [p.name for p in rbac.PLATFORM_PERMISSIONS]
        for manifest in manifests:
            for permission in manifest.permissions:
                if not permission.name.startswith(f"{manifest.name}."):
                    raise RuntimeError(f"app {manifest.name} declares a foreign permission {permission.name}")
                declared.append(permission.name)
        self.permissions = {p.name: p for p in rbac.PLATFORM_PERMISSIONS}
        self.permissions.update({p.name: p for m in manifests for p in m.permissions})
        self.role_permissions = rbac.resolve_matrix(declared)
        self.blueprint_apps: dict[str, str] = {}  # blueprint name -> app name, for the enablement guard

    def __iter__(self):
        return iter(self.apps.values())

    def get(self, name: str) -> AppManifest | None:
        return self.apps.get(name)

    def dependents(self, name: str) -> list[str]:
        """Apps that need ``name`` enabled."""
        return [m.name for m in self if name in m.depends_on]

    def permissions_for(self, roles) -> frozenset[str]:
        return frozenset().union(*(self.role_permissions[r] for r in roles)) if roles else frozenset()


def load_manifests(module_names: list[str]) -> list[AppManifest]:
    """Import each app's ``<package>.manifest`` module and return its ``manifest``."""
    manifests = []
    for module_name in module_names:
        module = importlib.import_module(f"{module_name}.manifest")
        manifest = getattr(module, "manifest", None)
        if not isinstance(manifest, AppManifest):
            raise RuntimeError(f"{module_name}.manifest has no AppManifest named 'manifest'")
        if manifest.models:
            importlib.import_module(manifest.models)
        manifests.append(manifest)
    return manifests


def init_app(app: Flask, api) -> Registry:
    """Register every installed app's blueprints behind the per-tenant enablement guard."""
    registry = Registry(load_manifests(app.config["INSTALLED_APPS"]))
    app.extensions["mes.registry"] = registry
    for manifest in registry:
        for name, default in manifest.settings.items():
            app.config.setdefault(name, default)
        if manifest.web is not None:
            app.register_blueprint(manifest.web, url_prefix=f"/{manifest.name}")
            registry.blueprint_apps[manifest.web.name] = manifest.name
        if manifest.api is not None:
            api.register_blueprint(manifest.api, url_prefix=f"/api/v1/{manifest.name}")
            registry.blueprint_apps[manifest.api.name] = manifest.name
    app.before_request(_require_app_enabled)
    return registry


def _require_app_enabled() -> None:
    """404 for every page and endpoint of an app the current tenant has not enabled."""
    app_name = get_registry().blueprint_apps.get((request.blueprint or "").split(".")[0])
    if app_name is None:
        return
    principal = g.get("principal")
    if principal is None:
        return  # not signed in: the view's own guard asks for sign-in (401 or the sign-in page)
    if principal.tenant is None or app_name not in principal.tenant.enabled_apps:
        abort(404)


def get_registry() -> Registry:
    return current_app.extensions["mes.registry"]


def model_modules(module_names: list[str]) -> list[str]:
    """Every module holding models: the platform's and each installed app's (used by Alembic)."""
    modules = [
        "platform_core.tenants.models",
        "platform_core.identity.models",
        "platform_core.idempotency",
        "platform_core.numbering",
        "platform_core.masterdata.models",
        "platform_core.audit",
        "platform_core.events",
        "platform_core.webhooks",
        "platform_core.jobs",
        "platform_core.worker",
    ]
    for manifest in load_manifests(module_names):
        if manifest.models:
            modules.append(manifest.models)
    return modules
