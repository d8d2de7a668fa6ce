"""Domain exceptions and the one JSON error shape every failure answers with.

``{"code": 409, "status": "Conflict", "error": "out_of_stock", "message": "..."}`` plus
``"errors": {field: [...]}`` for validation failures. Services raise ``DomainError``
subclasses; this module alone maps them to HTTP. The ``message`` is in the language the
request's Accept-Language asks for (English unless Thai is asked for); ``error`` never
changes. A web page's request (outside /api/) gets an HTML page in the reader's language
instead, from the renderer the web package registers (``PAGE_RENDERER``).
"""
import contextlib
import logging
import math
import time

import marshmallow as ma
from flask import current_app, jsonify, request
from flask_babel import gettext
from flask_smorest import Api
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)

# Stable codes for the HTTP errors the framework raises itself.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def N_(text):
    """Marks ``text`` for the catalogue (make messages); it is translated when answered."""
    return text


class DomainError(Exception):
    """A refusal the client can act on: an HTTP status and a stable ``error`` code."""

    status = 400
    error = "bad_request"
    message = "The request cannot be served."

    def __init__(self, message=None, *, error=None, status=None, headers=None, **extra):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.error = error or self.error
        self.status = status or self.status
        self.headers = headers or {}
        self.extra = extra  # extra top-level fields, e.g. retry_after


class Unauthorized(DomainError):
    status, error, message = 401, "unauthorized", "Authentication is required."


class InvalidToken(DomainError):
    status, error, message = 401, "invalid_token", "The token is invalid or expired."


class Forbidden(DomainError):
    status, error, message = 403, "forbidden", "You may not do that."


class NotFound(DomainError):
    status, error, message = 404, "not_found", "Not found."


class Conflict(DomainError):
    status, error, message = 409, "conflict", "The request conflicts with the current state."


class Gone(DomainError):
    status, error, message = 410, "gone", "This is no longer available."


class Invalid(DomainError):
    """A business-rule validation failure on a field (422, like marshmallow's)."""

    status, error, message = 422, "validation_error", "The request is not valid."

    def __init__(self, field, text):
        super().__init__(f"{field}: {text}", errors={field: [text]})


class TooMany(DomainError):
    status, error, message = 429, "rate_limited", "Too many requests."

    def __init__(self, message=None, *, error=None, retry_after=1):
        retry_after = max(1, int(retry_after))
        super().__init__(
            message, error=error, headers={"Retry-After": str(retry_after)}, retry_after=retry_after
        )


class ErrorSchema(ma.Schema):
    """The error body of every failed request."""

    code = ma.fields.Integer(required=True, metadata={"description": "HTTP status"})
    status = ma.fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    error = ma.fields.String(required=True, metadata={"description": "Stable snake_case code"})
    message = ma.fields.String(required=True, metadata={"description": "Human-readable text"})
    errors = ma.fields.Dict(metadata={"description": "Field -> messages, on validation errors"})
    retry_after = ma.fields.Integer(metadata={"description": "Seconds to wait (429 only)"})


# The header every 429 (and a 503 that knows) carries; declared so generated clients expose it.
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                               "schema": {"type": "integer", "minimum": 0}}}


class NoBodyIn(ma.Schema):
    """The body of a call that takes none: anything sent is a 422, never silently ignored."""

    class Meta:
        unknown = ma.RAISE


def error_body(status, error, message, **extra):
    """The one JSON error shape, as a dict."""
    return {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "error": error,
        "message": message,
        **extra,
    }


# Where a page's refusal is drawn: app.extensions[PAGE_RENDERER](status, error, message,
# headers, extra) -> response, set by ecolife.web (this module imports nothing of it).
PAGE_RENDERER = "ecolife_error_page"
# What answers JSON outside /api/ too: the root's health checks.
JSON_ROOT_PATHS = ("/healthz", "/readyz")


def is_page_request():
    """Whether this request is a person's, for a web page (not the API, not a probe)."""
    path = request.path
    return not (path.startswith("/api/") or path in JSON_ROOT_PATHS)


def error_response(status, error, message, headers=None, **extra):
    """Build the one JSON error response (an HTML page for a web page's request)."""
    page = current_app.extensions.get(PAGE_RENDERER)
    if page is not None and is_page_request():
        return page(status, error, message, dict(headers or {}), extra)
    # The catalogue holds the domain exceptions' messages; any other text (one with a value
    # in it) stays as it is.
    response = jsonify(error_body(status, error, gettext(message), **extra))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _flatten_messages(messages):
    """webargs nests errors by location ({"json": {...}}); clients want {field: [...]}."""
    flat = {}
    for location_errors in (messages or {}).values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat.setdefault("_schema", []).extend(location_errors)
    return flat


class EcoApi(Api):
    """flask-smorest's Api with EcoLife's error shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """Answer any HTTPException (framework, validation, rate limit) in the one shape."""
        data = getattr(error, "data", None) or {}
        headers = dict(data.get("headers") or {})
        if getattr(error, "valid_methods", None):  # 405 must say what is allowed (RFC 9110)
            headers.setdefault("Allow", ", ".join(error.valid_methods))
        extra = {}
        if error.code == 422 and "messages" in data:
            extra["errors"] = _flatten_messages(data["messages"])
            message = N_("The request is not valid.")
        elif error.code == 429:
            message = N_("Too many requests; try again later.")
            retry = getattr(error, "retry_after", None) or _limiter_wait()
            if retry:
                headers.setdefault("Retry-After", str(retry))
                extra["retry_after"] = retry  # in the body too, as every other 429's
        elif error.code >= 500:
            message = N_("Something went wrong on our side.")
        else:
            message = error.description or HTTP_STATUS_CODES.get(error.code, "Error")
        code = HTTP_ERROR_CODES.get(error.code, "http_error")
        return error_response(error.code, code, message, headers, **extra)


def discard_session():
    """Roll the session back; if its connection is gone, drop it (or the request's teardown
    fails on it too)."""
    from ecolife.extensions import db  # errors is imported by extensions

    try:
        db.session.rollback()
    except Exception:
        with contextlib.suppress(Exception):
            db.session.invalidate()


def _limiter_wait():
    """Whole seconds until the rate limit that refused this request lets one through, rounded
    up (at least 1); None if no limit was checked."""
    from ecolife.extensions import limiter  # errors is imported by extensions

    limit = limiter.current_limit
    if limit is None:
        return None
    return max(1, math.ceil(limit.reset_at - time.time()))


def _raised_in_json(exc):
    """Whether the innermost Python frame of ``exc`` is the standard library's json."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("json")


def register_error_handlers(app):
    """Map domain exceptions, integrity errors and crashes to the JSON shape."""
    from ecolife.extensions import api, db  # errors is imported by extensions

    api_handler = api.handle_http_exception

    @app.errorhandler(DomainError)
    def handle_domain_error(exc):
        # A refused request writes nothing: drop whatever the service had pending, even when
        # the session outlives the request (a test's or a script's app context).
        db.session.rollback()
        return error_response(exc.status, exc.error, exc.message, exc.headers, **exc.extra)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(exc):
        # A constraint caught what a service check missed (a race): nothing was written.
        db.session.rollback()
        log.warning("integrity error: %s", exc.orig)
        return error_response(409, "conflict", N_("The request conflicts with the current state."))

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def handle_out_of_range(exc):
        # A number the database (PostgreSQL's DataError), the driver (OverflowError) or a date
        # cannot hold, e.g. an id past its column's range, that validation let through:
        # the client's mistake, not a crash; nothing was written.
        db.session.rollback()
        log.warning("value out of range: %s", getattr(exc, "orig", exc))
        return error_response(422, "validation_error", N_("A value is out of range."))

    @app.errorhandler(RecursionError)
    def handle_too_deep(exc):
        # JSON nested thousands deep overflows the parser, which raises RecursionError, not
        # the ValueError Flask turns into a 400: the client's body, not a crash. Only when
        # the json module raised it; a recursion anywhere else is a bug of ours.
        if not _raised_in_json(exc):
            return handle_unexpected(exc)
        db.session.rollback()
        log.warning("request too deeply nested: %s %s", request.method, request.path)
        return error_response(400, "bad_request", N_("The request body is nested too deeply."))

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(exc):
        # The database is restarting or unreachable: a transient outage, not a bug. 503 with
        # Retry-After tells clients to retry (with the same Idempotency-Key, which is safe).
        discard_session()
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "unavailable", N_("The service is briefly unavailable; retry."),
                              {"Retry-After": "1"})

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        if isinstance(exc, HTTPException):
            return api_handler(exc)
        current_app.logger.exception("unhandled error")
        return api_handler(InternalServerError())
