"""/auth: register, login, refresh, logout."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth import schemas, service
from ecolife.auth.decorators import current_user, login_required
from ecolife.auth.limits import LOGIN_LIMITS, REGISTER_LIMITS
from ecolife.errors import RETRY_AFTER, ErrorSchema
from ecolife.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")


@blp.route("/register")
class Register(MethodView):
    decorators = list(REGISTER_LIMITS)  # shared with the register page

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
    # Shared with the login page: see ecolife/auth/limits.py.
    decorators = list(LOGIN_LIMITS)

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
