"""What a request may carry, checked before any view runs: a JSON body or none, and text a
column can store. Refusals are ``DomainError``s, so they answer in the one error shape.

The body rules are the API's (/api/v1): JSON or nothing. The web pages post HTML forms
(``application/x-www-form-urlencoded``), which their own forms check (ecolife/web/forms.py);
a query parameter is checked everywhere.
"""
from flask import request
from werkzeug.exceptions import BadRequest

from ecolife.errors import DomainError


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
    An unknown URL or method keeps its own 404 / 405. Only the API's: pages post forms.
    """
    if not is_api_request():
        return
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
    if not is_api_request():
        return  # a page's form is checked by the page (ecolife/web/forms.py)
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


def is_api_request():
    """Whether the request is the API's (everything under /api/)."""
    return request.path.startswith("/api/")


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


def register_body_checks(app):
    """Run the checks before every view (404 and 405 keep their own answers)."""
    app.before_request(require_json_body)
    app.before_request(refuse_unstorable_text)
