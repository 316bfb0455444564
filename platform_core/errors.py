"""Domain exceptions and the one error shape of the product.

Services raise the exceptions below; they never build HTTP responses. Every error that reaches a client of the
API has the shape ``{"code": "...", "status": 409, "message": "...", "errors": {...}}``; pages get an error page
with the same message. Another tenant's record is reported as 404, exactly like a record that does not exist.
"""

from __future__ import annotations

import http
import logging
from typing import Any

import flask_smorest
from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class: a business rule refused the request."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, errors: dict[str, Any] | None = None, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        if code is not None:
            self.code = code
        self.extra = extra  # further members of the error body, e.g. ``current_state``


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """A state change not allowed from the current state; ``current_state`` goes into the response."""

    code = "invalid_transition"


class ValidationFailed(DomainError):
    """Input that passed the schema but breaks a rule; ``errors`` names the fields."""

    status = 422
    code = "validation_error"


def abort(status: int, message: str | None = None, **data: Any) -> None:
    """Stop the request with an HTTP error in the product's shape (``message``, optional ``errors``, ``code``)."""
    flask_smorest.abort(status, message=message, **data)


def status_code_name(status: int) -> str:
    """``404`` -> ``"not_found"``: the machine-readable code for a plain HTTP error."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return phrase.lower().replace(" ", "_").replace("-", "_")


def error_body(status: int, message: str, *, code: str | None = None, errors: Any = None, **extra: Any) -> dict:
    body = {"code": code or status_code_name(status), "status": status, "message": message}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def wants_json() -> bool:
    """API paths, and clients that prefer JSON over HTML, get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str, *, code: str | None = None, errors: Any = None, **extra: Any):
    """The response for an error, JSON or HTML depending on the client."""
    if wants_json():
        response = jsonify(error_body(status, message, code=code, errors=errors, **extra))
        response.status_code = status
        return response
    html = render_template("error.html", status=status, message=message, errors=errors)
    return html, status


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or _http_message(exc)
    response = error_response(exc.code or 500, message, errors=errors, code=data.get("code"))
    if exc.code == 405 and (valid := getattr(exc, "valid_methods", None)):
        response = _with_header(response, "Allow", ", ".join(valid))
    if exc.code == 429 and (retry_after := data.get("retry_after")):
        response = _with_header(response, "Retry-After", str(retry_after))
    return response


def _http_message(exc: HTTPException) -> str:
    if exc.description and exc.description != type(exc).description:
        return exc.description  # raised with a specific explanation (e.g. a missing CSRF token)
    messages = {
        400: _("The request is malformed."),
        401: _("Sign in first."),
        403: _("You do not have permission to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        412: _("The record has changed since you loaded it; reload and try again."),
        413: _("The request body is too large."),
        414: _("The request line is too long."),
        428: _("This change needs an If-Match header with the record's ETag."),
        429: _("Too many attempts; wait and try again."),
    }
    return messages.get(exc.code, exc.description or exc.name)


def _with_header(response, name: str, value: str):
    from flask import make_response

    response = make_response(response)
    response.headers[name] = value
    return response


def handle_domain_error(exc: DomainError):
    return error_response(exc.status, exc.message, code=exc.code, errors=exc.errors, **exc.extra)


def handle_integrity_error(exc: IntegrityError):
    # Services check uniqueness first; this is the race where two requests pass the check at once.
    log.info("integrity error turned into 409: %s", exc.orig)
    return error_response(409, _("This conflicts with a record that was saved at the same time; try again."))


def handle_operational_error(exc: OperationalError):
    log.exception("database unavailable")
    return error_response(503, _("The database is not reachable right now; try again shortly."))


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error")
    return error_response(500, _("Internal error; it has been logged."), request_id=g.get("request_id"))


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(Exception, handle_unexpected)
