"""The rate limits on logging in and registering, shared by the API and the web pages.

Shared limits (one scope each, not one per route): an attempt at ``POST /api/v1/auth/login``
and one at the login page count against the same allowances, per address and per account,
so a guesser gains nothing by switching between them.
"""
import hashlib
import logging

from flask import current_app, request

from ecolife.auth import service
from ecolife.errors import discard_session
from ecolife.extensions import limiter

log = logging.getLogger(__name__)


def login_key():
    """Rate-limit key for one account, whichever IP the attempts come from and whichever of
    its logins (email, phone) they use."""
    # Once per request (both tiers ask): on the request, not on g, which a reused app
    # context would carry over to the next request.
    cache = request.environ
    if "ecolife.login_limit_key" not in cache:
        cache["ecolife.login_limit_key"] = _account_key()
    return cache["ecolife.login_limit_key"]


def _typed_login():
    """The login the attempt names: the API's JSON body, or the login page's form."""
    if request.is_json:
        body = request.get_json(silent=True)
        login = body.get("login") if isinstance(body, dict) else None
    else:
        login = request.form.get("login")
    return login if isinstance(login, str) else None


def _account_key():
    login = _typed_login()
    if login is None:
        account = "?"
    else:
        try:
            account = service.login_limit_key(login)
        except Exception:  # a key function must never raise (below)
            log.warning("login limit: account lookup failed", exc_info=True)
            # The failed lookup must not leave the login's own query a dead transaction:
            # the login then meets the outage itself, and answers 503 like any other.
            discard_session()
            account = "login:" + service.normalize_login(login)  # what it names if none
    # Hashed: the key is stored in Redis and logged when the limit is hit; an email is not.
    # surrogatepass: a key function must never raise (the limiter would take it for its store
    # failing and fall back to per-process counts); such a body is refused as a 422 anyway.
    return "login:" + hashlib.sha256(account.encode(errors="surrogatepass")).hexdigest()[:32]


# Every attempt counts, per IP and per account (5 a minute and 30 an hour by default: a slow
# guesser gets 720 a day, not 7,200), and is counted before the password is checked: counting
# only failures (after the response) lets a burst of parallel guesses all pass the check
# before any of them is counted. Only POSTs: showing the login page tries no password.
LOGIN_LIMITS = (
    limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], scope="login-ip",
                         methods=["POST"]),
    limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
                         scope="login-account", key_func=login_key, methods=["POST"]),
)
REGISTER_LIMITS = (
    limiter.shared_limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"],
                         scope="register-ip", methods=["POST"]),
)


def limited(limits):
    """Decorate a view with each of ``limits``."""

    def decorator(view):
        for limit in reversed(limits):
            view = limit(view)
        return view

    return decorator
