"""The application factory.

A request's transaction: the scoped database session opens lazily on first use; ``MesFlask.dispatch_request``
commits it after the view returned a response below 400 and rolls it back otherwise, so a failed commit still
becomes a proper error response; teardown removes the session (rolling back anything left).
"""

from __future__ import annotations

from flask import Flask, Response

from platform_core import config as config_module
from platform_core import logs
from platform_core.api import Api
from platform_core.db import db


class MesFlask(Flask):
    """Flask whose view dispatch ends the request's unit of work."""

    def dispatch_request(self) -> Response:
        response = self.make_response(super().dispatch_request())
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    def handle_user_exception(self, e: Exception):
        # A failed flush leaves the session refusing every query until rolled back, and the error's answer still
        # reads the signed-in user's language and factory: release it first (the work is void either way).
        if db.session.registry.has() and not db.session.is_active:
            db.session.rollback()
        return super().handle_user_exception(e)


def create_app(overrides: dict | None = None) -> MesFlask:
    """Build the application: config, database, i18n, auth, API, apps, pages, in this order."""
    app = MesFlask(__name__)
    config_module.load_config(app, overrides)
    logs.init_app(app)  # first, so everything after can log with the request id
    if proxies := app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db.init_app(app)
    from platform_core import audit, events, i18n  # noqa: F401 - their session listeners: audit trail, outbox delivery

    i18n.init_app(app)

    from platform_core.identity import auth
    from platform_core.identity.sessions import DatabaseSessionInterface

    app.session_interface = DatabaseSessionInterface()
    auth.init_app(app)  # resolves the principal and the tenant before every other before_request

    api = Api(app)
    app.extensions["mes.api"] = api

    from platform_core import registry

    registry.init_app(app, api)  # the apps' pages and API, guarded per tenant

    from platform_core import health, masterdata, web
    from platform_core.admin_api import blp as admin_api
    from platform_core.identity.api import blp as identity_api
    from platform_core.tenants.api import blp as tenants_api

    api.register_blueprint(tenants_api)
    api.register_blueprint(identity_api)
    api.register_blueprint(admin_api)
    masterdata.init_app(app, api)
    web.init_app(app)
    health.init_app(app)

    from platform_core.commands import register_commands

    register_commands(app)
    return app
