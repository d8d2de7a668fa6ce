"""``login_required`` and ``roles_required``: the one place requests are authenticated.

Both answer JSON 401 (no or bad token) or 403 (wrong role) and document the bearer
scheme on the operation; ``roles_required(..., limit_per_user=...)`` also rate-limits
the authenticated caller (429). Ownership is the services' business, not theirs.
"""
from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint

from ecolife.auth.tokens import decode_access_claims
from ecolife.errors import RETRY_AFTER, Forbidden, InvalidToken, Unauthorized
from ecolife.extensions import db, limiter
from ecolife.users.models import User

BEARER = [{"bearerAuth": []}]
_ERROR = {"$ref": "#/components/schemas/Error"}


def _error_doc(description):
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


UNAUTHORIZED = _error_doc("`unauthorized` (no bearer token) or `invalid_token`")
FORBIDDEN = _error_doc("`forbidden`: the caller's role may not do this")
RATE_LIMITED = {**_error_doc("`rate_limited`: too many requests by this user"),
                "headers": RETRY_AFTER}
INVALID_TOKEN = (
    "`invalid_token` (a bad or expired bearer token) or `unauthorized` (an Authorization "
    "header that is not a bearer token): a token that is sent is checked, and a bad one is "
    "refused, not treated as anonymous"
)


def optional_auth(also=None):
    """``@blp.doc(**optional_auth())`` on a view that serves anyone but reads a token if sent.

    ``optional_user()`` authenticates whenever an Authorization header is present, so the
    operation takes no auth or a bearer token (``security: [{}, bearer]``) and can be a 401.
    ``also`` adds the view's own reasons for a 401.
    """
    description = INVALID_TOKEN + ("; " + also if also else "")
    return {"security": [{}, *BEARER], "responses": {"401": _error_doc(description)}}


def _token_claims():
    """(user id, role claim) of the request's bearer token; 401 without a valid one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required.")
    return decode_access_claims(token.strip())


def _authenticate():
    user_id, _ = _token_claims()
    return _set_user(db.session.get(User, user_id))


def _set_user(user):
    if user is None:
        raise InvalidToken()
    g.current_user, g.current_user_id = user, user.id
    return user


def _check_role(role, roles):
    if roles and role not in roles:
        raise Forbidden(f"This needs the role {' or '.join(roles)}.")


def current_user():
    """The authenticated user of this request (inside a protected view)."""
    return g.current_user


def current_user_id():
    """The authenticated user's id (inside any protected view, ``load_user=False`` included)."""
    return g.current_user_id


def optional_user():
    """The authenticated user if a valid token was sent, else None (for public views)."""
    if "Authorization" not in request.headers:
        return None
    return _authenticate()


def caller_key():
    """Rate-limit key of the authenticated caller (inside a protected view)."""
    return f"user:{g.current_user_id}"


def roles_required(*roles, load_user=True, limit_per_user=None):
    """Allow only authenticated users with one of ``roles`` (any role when empty).

    ``limit_per_user`` names the config key of a rate limit (e.g. ``"60 per minute"``) counted
    per caller, whatever address they come from: checked after authentication, which it needs.

    ``load_user=False`` is for views whose service locks the user's row anyway (points
    moves): loading it here too would cost a query. Only the token is checked here (its
    signed role claim refuses the wrong role early, as a loaded user would); the service
    must then pass the row it locked to ``authorize_locked``, which decides.
    """

    def decorator(view):
        inner = view
        if limit_per_user:
            inner = limiter.limit(
                lambda: current_app.config[limit_per_user], key_func=caller_key
            )(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            if load_user:
                user = _authenticate()
                _check_role(user.role, roles)
            else:
                user_id, role = _token_claims()
                if role is not None:  # a token without the claim: the row decides
                    _check_role(role, roles)
                # g is shared by requests in one app context: no previous user may linger.
                g.pop("current_user", None)
                g.current_user_id = user_id
            return inner(*args, **kwargs)

        # Document 401, 403 and 429 unless the view says more about them itself.
        own = getattr(view, "_apidoc", {}).get("response", {}).get("responses", {})
        documented = ((401, UNAUTHORIZED, True), (403, FORBIDDEN, bool(roles)),
                      (429, RATE_LIMITED, bool(limit_per_user)))
        responses = {str(status): doc for status, doc, applies in documented
                     if applies and status not in own and str(status) not in own}
        return Blueprint.doc(security=BEARER, responses=responses)(wrapper)

    return decorator


def authorize_locked(user, *roles):
    """The caller's row as the service locked it: 401 if the user is gone, 403 if its role
    is not one of ``roles``. Completes ``roles_required(..., load_user=False)``."""
    _set_user(user)
    _check_role(user.role, roles)
    return user


login_required = roles_required()
