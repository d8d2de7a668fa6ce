"""EcoLife: the backend of a community recycling-rewards programme."""
import logging
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import ENVIRONMENTS, MIN_SECRET_LENGTH, config_for_env, flask_debug
from ecolife import embedded
from ecolife.bodies import register_body_checks
from ecolife.errors import register_error_handlers
from ecolife.fields import MAX_ID
from ecolife.extensions import api, db, limiter, migrate, redis_store
from ecolife.headers import add_security_headers, retry_after_only_when_refused

BLUEPRINTS = (
    "ecolife.health.views",
    "ecolife.auth.views",
    "ecolife.users.views",
    "ecolife.communities.views",
    "ecolife.badges.views",
    "ecolife.leaderboards.views",
    "ecolife.impact.views",
    "ecolife.actions.views",
    "ecolife.shops.views",
    "ecolife.codes.views",
    "ecolife.scans.views",
    "ecolife.points.views",
    "ecolife.rewards.views",
)
log = logging.getLogger(__name__)


def create_app(config_class=None):
    """Build the app: config, extensions, blueprints, error handlers, CLI."""
    app = Flask(__name__, instance_relative_config=False)
    app.url_map.converters["int"] = IdConverter
    app.json.ensure_ascii = False  # Thai goes out as UTF-8 text, not \u escapes
    app.config.from_object(config_class or config_for_env())
    _resolve_embedded_defaults(app)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    redis_store.init_app(app)
    app.after_request(retry_after_only_when_refused)  # before the limiter's: runs after it
    app.after_request(add_security_headers)
    limiter.init_app(app)
    api.init_app(app)

    from ecolife import models  # noqa: F401 - every model registered before migrations run
    from ecolife.docs import register_docs

    api_blueprints = []
    for module in BLUEPRINTS:
        blp = __import__(module, fromlist=["blp"]).blp
        api.register_blueprint(blp, url_prefix="/api/v1" + (blp.url_prefix or ""))
        api_blueprints.append(blp)
    register_docs(app, api)
    from ecolife.health.views import register_root_routes

    register_root_routes(app)
    from ecolife.web import register_web  # the pages: HTML, outside /api/v1

    register_web(app, api_blueprints)
    register_error_handlers(app)
    register_body_checks(app)

    from ecolife.cli import register_cli

    register_cli(app)
    logging.basicConfig(level=logging.INFO)
    return app


class IdConverter(IntegerConverter):
    """``<int:id>`` stops at the largest id a column holds: a bigger one is a plain 404.

    PostgreSQL's integer ids end at 2**31 - 1; past that a lookup would be a DataError.
    """

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


DEVELOPMENT_BASE_URL = "http://localhost:5000"  # what `make run` serves


def _resolve_embedded_defaults(app):
    """No settings at all: the embedded PostgreSQL and a secret in instance/. Production:
    refuse instead."""
    config = app.config
    env = config["ECOLIFE_ENV"]
    if env not in ENVIRONMENTS and not (env == "testing" and config["TESTING"]):
        raise RuntimeError(f"ECOLIFE_ENV={env!r} is unknown: set it to {' or '.join(ENVIRONMENTS)}")
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"] or "memory://"
    # The limiter's keys under REDIS_KEY_PREFIX like every other key. The storage's own prefix
    # ("LIMITS") is shared by every app on the Redis, and the limiter's reset() deletes every
    # key under it: one test run's reset wiped another's counts.
    config["RATELIMIT_STORAGE_OPTIONS"] = {**config["RATELIMIT_STORAGE_OPTIONS"],
                                           "key_prefix": config["REDIS_KEY_PREFIX"] + "rl"}
    if env == "production":
        _check_production(config)
        return
    config["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"] or DEVELOPMENT_BASE_URL
    instance = Path(app.instance_path)
    if not config["SQLALCHEMY_DATABASE_URI"]:
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = embedded.database_url(instance / "pgdata", "ecolife")
    if not config["SECRET_KEY"]:
        instance.mkdir(parents=True, exist_ok=True)
        secret_file = instance / "secret_key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(48))
            secret_file.chmod(0o600)
        config["SECRET_KEY"] = secret_file.read_text().strip()


def _check_production(config):
    """Refuse to start without real secrets and services, or with the debugger; warn of a
    per-proxy rate limit."""
    required = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "PUBLIC_BASE_URL")
    missing = [k for k in required if not config[k]]
    if missing:
        names = ["DATABASE_URL" if k == "SQLALCHEMY_DATABASE_URI" else k for k in missing]
        raise RuntimeError(f"production needs {', '.join(names)} to be set")
    if len(config["SECRET_KEY"]) < MIN_SECRET_LENGTH:
        # JWT and QR keys derive from it: a short one is guessed offline from one token.
        raise RuntimeError(f"SECRET_KEY must be {MIN_SECRET_LENGTH}+ characters in production")
    if flask_debug():
        # Flask's CLI sets app.debug from FLASK_DEBUG after create_app, whatever DEBUG says,
        # and the debugger's console runs any Python a visitor types.
        raise RuntimeError("FLASK_DEBUG (or flask --debug) asks for the debugger: production "
                           "never runs it; unset FLASK_DEBUG or set it to 0")
    config["DEBUG"] = False
    if not config["RATELIMIT_ENABLED"]:
        log.warning("RATELIMIT_ENABLED=0: no rate limit applies, logins included")
    if not config["TRUSTED_PROXIES"]:
        log.warning(
            "TRUSTED_PROXIES is 0: rate limits key on the connecting address, so behind a proxy "
            "or load balancer every client shares one allowance; set it to the number of proxies"
        )
