"""``login_required`` and ``roles_required``: the one place requests are authenticated.

Both answer JSON 401 (no or bad token) or 403 (wrong role) and document the bearer
scheme on the operation. Ownership is the services' business, not theirs.
"""
from functools import wraps

from flask import g, request
from flask_smorest import Blueprint

from ecolife.auth.tokens import decode_access_token
from ecolife.errors import Forbidden, InvalidToken, Unauthorized
from ecolife.extensions import db
from ecolife.users.models import User

BEARER = [{"bearerAuth": []}]


def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required.")
    user = db.session.get(User, decode_access_token(token.strip()))
    if user is None:
        raise InvalidToken()
    g.current_user = user
    return user


def current_user():
    """The authenticated user of this request (inside a protected view)."""
    return g.current_user


def optional_user():
    """The authenticated user if a valid token was sent, else None (for public views)."""
    if "Authorization" not in request.headers:
        return None
    return _authenticate()


def roles_required(*roles):
    """Allow only authenticated users with one of ``roles`` (any role when empty)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = _authenticate()
            if roles and user.role not in roles:
                raise Forbidden(f"This needs the role {' or '.join(roles)}.")
            return view(*args, **kwargs)

        return Blueprint.doc(security=BEARER)(wrapper)

    return decorator


login_required = roles_required()
