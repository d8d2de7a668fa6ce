"""Who is logged in on this browser, and the decorator that guards a page.

Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure in production: see config.py)
carries the random token of a web session row (``ecolife.auth.sessions``); every page checks
the row, so a logout ends the session for every copy of the cookie. The cookie also holds
Flask-WTF's form key.
"""
from functools import wraps
from urllib.parse import urlsplit

from flask import redirect, request, session, url_for

from ecolife.auth.sessions import end_web_session, start_web_session, web_session_user
from ecolife.errors import Forbidden

TOKEN = "sid"
USER = "ecolife.web_user"  # on the request's environ: one lookup per request
MAX_NEXT_LENGTH = 512


# Where each role lands after logging in (an endpoint); a role with no pages of its own yet
# lands on its account page.
ROLE_HOMES = {"resident": "residents.home"}


class WrongRole(Forbidden):
    error, message = "forbidden", "This page is not for your account."


def log_in(user):
    """Start a session for ``user`` on this browser: a new cookie, a new form key."""
    # Cleared first: a session id planted before the login (fixation) names nothing after it.
    session.clear()
    session[TOKEN] = start_web_session(user)
    session.permanent = True  # lasts WEB_SESSION_DAYS (app.permanent_session_lifetime)
    request.environ[USER] = user


def log_out():
    """End this browser's session on the server, then forget the cookie."""
    end_web_session(session.get(TOKEN))
    session.clear()
    request.environ[USER] = None


def current_web_user():
    """The user logged in on this browser, or None (no cookie, or its session ended)."""
    if USER not in request.environ:
        token = session.get(TOKEN)
        request.environ[USER] = web_session_user(token) if token else None
    return request.environ[USER]


def home_for(user):
    """The address of ``user``'s home page."""
    return url_for(ROLE_HOMES.get(user.role, "account.account"))


def page_roles_required(*roles):
    """Only a logged-in user with one of ``roles`` (any role when empty) sees the page.

    Nobody logged in: a redirect to the login page, which brings them back here (``next``).
    Another role: the friendly 403 page in their language.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_web_user()
            if user is None:
                return redirect(url_for("account.login", next=here()))
            if roles and user.role not in roles:
                raise WrongRole()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def here():
    """This page's address, to come back to: with its query for a GET; a form's page (its
    path) for a POST, since a redirect cannot repeat the post."""
    if request.method == "GET" and request.query_string:
        return request.full_path
    return request.path


def safe_next(value, default="/"):
    """``value`` if it is a path on this site, else ``default``: never an open redirect.

    Only ``/something``; not ``//host`` or ``/\\host`` (browsers read both as another
    site), not a scheme, not a control character.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(not ch.isprintable() or ch.isspace() for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
