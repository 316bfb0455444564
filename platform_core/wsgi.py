"""WSGI entry point for gunicorn: ``gunicorn platform_core.wsgi:app``."""

from platform_core.app import create_app

app = create_app()
