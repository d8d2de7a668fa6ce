"""Domain exceptions and the one JSON error shape every failure answers with.

``{"code": 409, "status": "Conflict", "error": "out_of_stock", "message": "..."}`` plus
``"errors": {field: [...]}`` for validation failures. Services raise ``DomainError``
subclasses; this module alone maps them to HTTP.
"""
import contextlib
import logging
import math
import time

import marshmallow as ma
from flask import current_app, jsonify, request
from flask_smorest import Api
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
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


def error_response(status, error, message, headers=None, **extra):
    """Build the one JSON error response."""
    response = jsonify(error_body(status, error, message, **extra))
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
            message = "The request is not valid."
        elif error.code == 429:
            message = "Too many requests; try again later."
            retry = getattr(error, "retry_after", None) or _limiter_wait()
            if retry:
                headers.setdefault("Retry-After", str(retry))
                extra["retry_after"] = retry  # in the body too, as every other 429's
        elif error.code >= 500:
            message = "Something went wrong on our side."
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


class MalformedJson(DomainError):
    status, error = 400, "bad_request"
    message = "The body is not valid JSON."


class UnsupportedMediaType(DomainError):
    status, error = 415, "unsupported_media_type"
    message = "Send the body as JSON (Content-Type: application/json)."


BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_json_body():
    """Refuse a body that is not JSON before any view reads it.

    webargs reads a form or text body as no JSON at all, so without this a request with the
    wrong Content-Type would run as if it had sent nothing: fields silently ignored, which
    API.md forbids. An empty body needs no type (``POST /shops/1/approve``), chunked or not.
    An unknown URL or method keeps its own 404 / 405.
    """
    if request.method not in BODY_METHODS or request.is_json or request.routing_exception:
        return
    # A chunked body has no length to look at: read it (MAX_CONTENT_LENGTH bounds that).
    if request.content_length or (request.content_length is None and request.get_data(cache=True)):
        raise UnsupportedMediaType()


def refuse_unstorable_text():
    """A NUL character or a lone surrogate in a query parameter or anywhere in a JSON body is
    a 422 on its field.

    Both are valid JSON (``"\\u0000"``, ``"\\ud800"``) but no text column stores them and
    UTF-8 cannot encode a surrogate: PostgreSQL refused a NUL only when it reached it, as a
    422 without the ``errors`` API.md promises, and a surrogate crashed whatever encoded it
    (password hashing, the login limit's key: a 500 that also tipped the rate limiter onto its
    per-process fallback).

    The body is parsed here first, so a body that is not JSON is a 400 ``bad_request`` before
    anything runs: a number of more than 4,300 digits too, which Python's json refuses with a
    ValueError that the argument parser let through as a 500.
    """
    for name, value in request.args.items(multi=True):
        if not (storable(name) and storable(value)):
            raise _unstorable(_printable(name))
    if request.method not in BODY_METHODS or not request.is_json or request.routing_exception:
        return  # an unknown URL or method keeps its own 404 / 405
    if not request.get_data(cache=True):
        return  # an empty body is no body (POST /shops/1/approve), whatever its type
    try:
        body = request.get_json(cache=True)
    except BadRequest:
        raise MalformedJson() from None
    pending = [("", body)]  # a walk, not a recursion
    while pending:
        path, node = pending.pop()
        if isinstance(node, str) and not storable(node):
            raise _unstorable(path or "body")
        if isinstance(node, dict):
            for key, value in node.items():
                if not storable(key):
                    raise _unstorable(path or "body")
                pending.append((f"{path}.{key}" if path else key, value))
        elif isinstance(node, list):
            pending.extend((f"{path}[{i}]", value) for i, value in enumerate(node))


def storable(text):
    """Whether a text column can hold ``text``: no NUL, no unpaired surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode()  # fails on an unpaired surrogate only
    except UnicodeEncodeError:
        return False
    return True


def _printable(name):
    return name.encode(errors="replace").decode().replace("\x00", "")


def _unstorable(field):
    return DomainError("A value contains a NUL character or invalid Unicode.", status=422,
                       error="validation_error",
                       errors={field: ["Must not contain NUL or unpaired surrogates."]})


def _raised_in_json(exc):
    """Whether the innermost Python frame of ``exc`` is the standard library's json."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("json")


def register_error_handlers(app):
    """Map domain exceptions, integrity errors and crashes to the JSON shape (and refuse
    bodies that are not JSON, ``require_json_body``)."""
    from ecolife.extensions import api, db  # errors is imported by extensions

    api_handler = api.handle_http_exception
    app.before_request(require_json_body)
    app.before_request(refuse_unstorable_text)

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
        return error_response(409, "conflict", "The request conflicts with the current state.")

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def handle_out_of_range(exc):
        # A number the database (PostgreSQL's DataError, SQLite's OverflowError) or a date
        # cannot hold, e.g. an id past its column's range, that validation let through:
        # the client's mistake, not a crash; nothing was written.
        db.session.rollback()
        log.warning("value out of range: %s", getattr(exc, "orig", exc))
        return error_response(422, "validation_error", "A value is out of range.")

    @app.errorhandler(RecursionError)
    def handle_too_deep(exc):
        # JSON nested thousands deep overflows the parser, which raises RecursionError, not
        # the ValueError Flask turns into a 400: the client's body, not a crash. Only when
        # the json module raised it; a recursion anywhere else is a bug of ours.
        if not _raised_in_json(exc):
            return handle_unexpected(exc)
        db.session.rollback()
        log.warning("request too deeply nested: %s %s", request.method, request.path)
        return error_response(400, "bad_request", "The request body is nested too deeply.")

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(exc):
        # The database is restarting or unreachable: a transient outage, not a bug. 503 with
        # Retry-After tells clients to retry (with the same Idempotency-Key, which is safe).
        discard_session()
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "unavailable", "The service is briefly unavailable; retry.",
                              {"Retry-After": "1"})

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        if isinstance(exc, HTTPException):
            return api_handler(exc)
        current_app.logger.exception("unhandled error")
        return api_handler(InternalServerError())
