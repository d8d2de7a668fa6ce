"""/auth: register, login, refresh, logout."""
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth import schemas, service
from ecolife.auth.decorators import current_user, login_required
from ecolife.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")


def _login_key():
    """Rate-limit key for one account, whichever IP the attempts come from."""
    body = request.get_json(silent=True)
    login = body.get("login") if isinstance(body, dict) else None
    return "login:" + (service.normalize_login(login) if isinstance(login, str) else "?")


def _failed(response):
    return response.status_code >= 400


@blp.route("/register")
class Register(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_IP"])]

    @blp.arguments(schemas.RegisterIn)
    @blp.response(201, schemas.UserOut)
    def post(self, data):
        """Register a resident (default) or a shop owner."""
        return service.register(**data)


@blp.route("/login")
class Login(MethodView):
    # Failed attempts count, per IP and per account; a success costs nothing.
    decorators = [
        limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], deduct_when=_failed),
        limiter.limit(
            lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
            key_func=_login_key,
            deduct_when=_failed,
        ),
    ]

    @blp.arguments(schemas.LoginIn)
    @blp.response(200, schemas.TokenPairOut)
    def post(self, data):
        """Log in with an email or phone and a password."""
        return service.login(data["login"], data["password"])


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(schemas.RefreshIn)
    @blp.response(200, schemas.TokenPairOut)
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
