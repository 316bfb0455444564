"""Configuration: defaults here, overridden by ``MES_*`` environment variables, then by ``create_app(overrides)``.

Every setting is documented in docs/operations.md. Environment values are parsed as JSON when they look like
JSON (``MES_SESSION_COOKIE_SECURE=true``, ``MES_MAX_CONTENT_LENGTH=1048576``), else taken as strings.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production, see check_config


class DefaultConfig:
    """Defaults for the embedded single-machine setup (SQLite in ./var)."""

    ENV = "development"  # "production" enables the strict checks and secure cookies
    SECRET_KEY = DEFAULT_SECRET_KEY
    DATABASE_URL = f"sqlite:///{Path.cwd() / 'var' / 'mes.db'}"
    DATABASE_ECHO = False

    INSTALLED_APPS = ["apps.orders", "apps.scheduling", "apps.equipment", "apps.quality"]

    # Web session cookie
    SESSION_COOKIE_NAME = "mes_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # forced on in production
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # one long shift
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Request limits: bodies above this size get a 413 before any parsing
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Password and PIN hashing (werkzeug's scrypt); tests use a cheaper cost
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a method name, not a secret
    PASSWORD_MIN_LENGTH = 10
    PIN_LENGTH_MIN = 4
    PIN_LENGTH_MAX = 8
    PIN_MAX_FAILURES = 5
    PIN_LOCK_MINUTES = 15

    # Login throttling: failures per username and per client address inside the window
    LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    LOGIN_THROTTLE_MAX_PER_USER = 10
    LOGIN_THROTTLE_MAX_PER_ADDRESS = 50

    # Idempotency keys are kept this long, then housekeeping removes them
    IDEMPOTENCY_TTL_HOURS = 72

    # Events and webhooks
    EVENTS_DELIVER_INLINE = True  # deliver right after commit; the worker's sweep catches anything left
    WEBHOOK_TIMEOUT_SECONDS = 5
    WEBHOOK_MAX_ATTEMPTS = 8
    WEBHOOK_BACKOFF_SECONDS = 30  # doubled after each failed attempt, at most an hour
    WEBHOOK_DISABLE_AFTER = 10  # failed deliveries in a row before a webhook is switched off

    # Background worker (mes worker)
    WORKER_CONCURRENCY = 2  # queued jobs run at once per worker process
    WORKER_POLL_SECONDS = 1.0
    WORKER_LEADER_RETRY_SECONDS = 5.0
    JOB_HEARTBEAT_SECONDS = 5.0
    JOB_STALE_SECONDS = 30.0  # a running job without heartbeat this long is taken over by another worker
    OUTBOX_SWEEP_SECONDS = 5
    WEBHOOK_DELIVERY_SECONDS = 5
    HOUSEKEEPING_SECONDS = 3600
    LEADER_LOCK_FILE = None  # SQLite only; defaults to the database file + ".worker.lock"

    # i18n
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = {"en": "English", "zh_CN": "中文"}

    # Forms (Flask-WTF); the CSRF token lives as long as the session
    WTF_CSRF_TIME_LIMIT = None

    # REST API (flask-smorest)
    API_TITLE = "MES Suite API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # The interactive docs page is the product's own (/api/v1/docs) with locally served assets: no CDN.

    # Behind a reverse proxy or load balancer: how many proxies' X-Forwarded-* headers to trust (0 = none)
    PROXY_COUNT = 0

    LOG_LEVEL = "INFO"
    LOG_JSON = True


def load_config(app, overrides: dict | None) -> None:
    """Fill ``app.config``: defaults, then ``MES_*`` environment variables, then explicit overrides."""
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("MES")
    if overrides:
        app.config.update(overrides)
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    check_config(app.config)


def check_config(config) -> None:
    """Refuse settings that are unsafe for a real deployment."""
    if config["ENV"] != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
        raise RuntimeError(
            "MES_SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )


def database_url_from_env() -> str:
    """The database URL for processes that run without a Flask app (e.g. Alembic offline)."""
    return os.environ.get("MES_DATABASE_URL", DefaultConfig.DATABASE_URL)
