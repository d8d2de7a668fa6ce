"""/auth: register, login, refresh, logout."""
import hashlib
import logging

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth import schemas, service
from ecolife.auth.decorators import current_user, login_required
from ecolife.errors import RETRY_AFTER, ErrorSchema, discard_session
from ecolife.extensions import limiter

log = logging.getLogger(__name__)
blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")


def _login_key():
    """Rate-limit key for one account, whichever IP the attempts come from and whichever of
    its logins (email, phone) they use."""
    # Once per request (both tiers ask): on the request, not on g, which a reused app
    # context would carry over to the next request.
    cache = request.environ
    if "ecolife.login_limit_key" not in cache:
        cache["ecolife.login_limit_key"] = _account_key()
    return cache["ecolife.login_limit_key"]


def _account_key():
    body = request.get_json(silent=True)
    login = body.get("login") if isinstance(body, dict) else None
    if not isinstance(login, str):
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


@blp.route("/register")
class Register(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"])]

    # RegisterIn's @validates_schema rule, which apispec cannot see, said in the document.
    @blp.arguments(schemas.RegisterIn, description=(
        "Send `email`, `phone` or both: one of them is required (neither is a 422 "
        "`validation_error` on `email`)."
    ))
    @blp.response(201, schemas.UserOut)
    @blp.alt_response(409, schema=ErrorSchema, description="`already_registered`")
    @blp.alt_response(429, schema=ErrorSchema, description="`rate_limited`", headers=RETRY_AFTER)
    def post(self, data):
        """Register a resident (default) or a shop owner."""
        return service.register(**data)


@blp.route("/login")
class Login(MethodView):
    # Every attempt counts, per IP and per account (5 a minute and 30 an hour by default: a
    # slow guesser gets 720 a day, not 7,200), and is counted before the password is checked:
    # counting only failures (after the response) lets a burst of parallel guesses all pass
    # the check before any of them is counted.
    decorators = [
        limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"]),
        limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_login_key),
    ]

    @blp.arguments(schemas.LoginIn)
    @blp.response(200, schemas.TokenPairOut)
    @blp.alt_response(
        401, schema=ErrorSchema, description="`invalid_credentials`: wrong login or password"
    )
    @blp.alt_response(429, schema=ErrorSchema, description="`rate_limited`", headers=RETRY_AFTER)
    def post(self, data):
        """Log in with an email or phone and a password."""
        return service.login(data["login"], data["password"])


@blp.route("/refresh")
class Refresh(MethodView):
    # Per IP, like login: refresh tokens are too long to guess, but each call is a database
    # lookup and, for a valid one, a write; a client needs one per access token's lifetime.
    decorators = [limiter.limit(lambda: current_app.config["REFRESH_LIMIT_PER_IP"])]

    @blp.arguments(schemas.RefreshIn)
    @blp.response(200, schemas.TokenPairOut)
    @blp.alt_response(
        401, schema=ErrorSchema, description="`invalid_token`: unknown, spent (family revoked) "
        "or expired"
    )
    @blp.alt_response(429, schema=ErrorSchema, description="`rate_limited`", headers=RETRY_AFTER)
    def post(self, data):
        """Spend a refresh token for a new token pair."""
        return service.refresh(data["refresh_token"])


@blp.route("/logout")
class Logout(MethodView):
    @login_required
    @blp.arguments(schemas.RefreshIn)
    @blp.response(204)
    def post(self, data):
        """Revoke the refresh token's family."""
        service.logout(current_user(), data["refresh_token"])
