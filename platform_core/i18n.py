"""Languages: English and Simplified Chinese through Flask-Babel.

The locale is the first of: the language the user picked (stored on the user, or in the session before sign-in),
the tenant's default, the browser's Accept-Language, English.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import Babel

TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    principal = g.get("principal")
    choices = [session.get("locale")]
    if principal is not None and principal.user is not None:
        choices.insert(0, principal.user.preferred_locale)
    if principal is not None and principal.tenant is not None:
        choices.append(principal.tenant.default_locale)
    for choice in choices:
        if choice in languages:
            return choice
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return "zh_CN" if best in ("zh-CN", "zh") else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    principal = g.get("principal")
    if principal is not None and principal.tenant is not None:
        return principal.tenant.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
