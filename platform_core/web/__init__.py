"""Server-rendered pages of the platform: sign-in, home, language, platform console, tenant administration."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_locale

from platform_core.rbac import ROLE_LABELS, Role
from platform_core.registry import get_registry


def navigation() -> list[dict]:
    """Navigation entries for the current principal: enabled apps, then permitted entries within them."""
    principal = g.get("principal")
    if principal is None or principal.tenant is None:
        return []
    entries = []
    enabled = principal.tenant.enabled_apps
    for manifest in get_registry():
        if manifest.name not in enabled:
            continue
        for entry in manifest.nav:
            if principal.can(entry.permission):
                entries.append(
                    {"app": manifest.name, "endpoint": entry.endpoint, "label": entry.label, "icon": entry.icon}
                )
    return entries


def current_language() -> str:
    """The ``LANGUAGES`` key of the page's locale (Babel spells Simplified Chinese ``zh_Hans_CN``)."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def init_app(app: Flask) -> None:
    from platform_core.web import admin, console, system, views

    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(system.bp)

    @app.context_processor
    def _layout_context():
        return {
            "principal": g.get("principal"),
            "navigation": navigation(),
            "languages": app.config["LANGUAGES"],
            "get_locale": get_locale,
            "current_language": current_language,
            "role_label": lambda role: ROLE_LABELS[Role(role)],
            "permission_label": lambda name: get_registry().permissions[name].label,
        }

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
