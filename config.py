"""EcoLife configuration: the only module that reads the environment.

With nothing set, EcoLife runs embedded: a PostgreSQL server of its own with its data in
``instance/pgdata`` (``ecolife/embedded.py``), an in-process Redis (fakeredis) and a secret
generated once into ``instance/``. ``ECOLIFE_ENV=production``
refuses to start without ``SECRET_KEY`` (32+ characters), ``DATABASE_URL`` and ``REDIS_URL``;
any ``ECOLIFE_ENV`` other than those in ``ENVIRONMENTS`` refuses to start at all.
Settings are checked here, at import: a bad value refuses to start with a ValueError
naming its variable, rather than failing inside requests (or, for a rate limit, applying none).
"""
import os
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import limits
import phonenumbers

# What ECOLIFE_ENV may say. Anything else (a typo such as "prod") is refused at startup rather
# than silently run as development. TestConfig's own "testing" is not set from the environment.
ENVIRONMENTS = ("development", "production")
# Root secrets (SECRET_KEY, JWT_KEYS and QR_KEYS entries) are HMAC keys: a short one can be
# brute-forced offline from a single token.
MIN_SECRET_LENGTH = 32


def _int(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


def _at_least(name, default, minimum):
    """An integer setting that must not go below ``minimum`` (what the contract promises)."""
    value = _int(name, default)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def _fraction(name, default):
    """A number from 0 to 1."""
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not 0 <= number <= 1:  # NaN fails the comparison too
        raise ValueError(f"{name} must be a number from 0 to 1, not {value!r}")
    return number


_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _flag(name, default):
    """On or off, in one of _FLAGS' words; any other value refuses rather than guessing."""
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() not in _FLAGS:
        raise ValueError(f"{name} must be 1, 0, true, false, yes or no, not {value!r}")
    return _FLAGS[value.lower()]


def _rate_limit(name, default):
    """A Flask-Limiter limit such as "5 per minute; 30 per hour". Flask-Limiter parses it only
    at each request, and one it cannot parse it logs and skips: no limit at all."""
    value = os.environ.get(name, default)
    try:
        limits.parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return value


def _timezone(name, default):
    value = os.environ.get(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Asia"
        raise ValueError(f"{name} must be an IANA time zone such as Asia/Bangkok, "
                         f"not {value!r}") from None
    return value


def _phone_region(name, default):
    """An ISO 3166 code phonenumbers knows, upper-cased: it refuses "th" for "TH"."""
    value = os.environ.get(name, default).upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{name} must be a country code such as TH, not {value!r}")
    return value


def flask_debug():
    """FLASK_DEBUG as Flask's CLI reads it: set, and not 0, false or no.

    Read when called, not at import: ``flask run --debug`` sets it just before loading the app.
    """
    value = os.environ.get("FLASK_DEBUG")
    return bool(value) and value.lower() not in ("0", "false", "no")


def _base_url(name):
    """An absolute http(s) address, printed in every QR code; None when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        parts = None
    # On the raw text: urlsplit reports an empty query ("?") as none, and drops tabs and
    # newlines; a code's link must still be exactly {value}/s/{token}.
    odd = any(c in "?#@" or c.isspace() or not c.isprintable() for c in value)
    if odd or parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http(s) address such as "
                         f"https://ecolife.example (no query, fragment or user), not {value!r}")
    return value.rstrip("/")


def _database_url(url):
    """DATABASE_URL for SQLAlchemy and psycopg 3; PostgreSQL is the one database."""
    if not url:
        return None
    scheme, found, rest = url.partition("://")
    if not found or scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ValueError("DATABASE_URL must be a PostgreSQL address such as "
                         f"postgresql://user@host/ecolife, not {scheme!r}")
    # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
    return "postgresql+psycopg://" + rest


# A key entry's secret that stands for the key derived from SECRET_KEY, the one used while the
# variable is unset: "1:<new secret>,0:derived" signs with the new key and keeps verifying
# what the derived one signed (printed stickers). Only under the derived key's own kid.
DERIVED = "derived"


def _keys(spec, derived_kid):
    """Parse ``"kid1:secret1,kid0:secret0"``; the first key signs, all verify."""
    if not spec:
        return None
    keys = {}
    for part in spec.split(","):
        kid, _, secret = part.strip().partition(":")
        if secret == DERIVED and kid != derived_kid:
            raise ValueError(f'"{DERIVED}" is the key of kid "{derived_kid}" only')
        if not kid or (secret != DERIVED and len(secret) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"key entries are kid:secret with a secret of {MIN_SECRET_LENGTH}+ characters"
                f' (or kid {derived_kid}:{DERIVED})'
            )
        keys[kid] = secret
    return keys


def _jwt_keys(spec):
    """JWT_KEYS; the derived key's kid is "k0"."""
    return _keys(spec, "k0")


def _qr_keys(spec):
    """Like _keys; QR key ids are "0".."255", one byte in a printed token."""
    keys = _keys(spec, "0")
    if keys and any(kid not in {str(n) for n in range(256)} for kid in keys):
        raise ValueError('QR_KEYS key ids are the numbers "0" to "255"')
    return keys


class Config:
    ECOLIFE_ENV = os.environ.get("ECOLIFE_ENV", "development")
    DEBUG = ECOLIFE_ENV == "development" and flask_debug()
    TESTING = False

    SECRET_KEY = os.environ.get("SECRET_KEY")  # None: generated once into instance/
    JWT_KEYS = _jwt_keys(os.environ.get("JWT_KEYS"))  # None: one key derived from SECRET_KEY
    # Keys signing static QR codes; kids are "0".."255" (one byte in the token).
    QR_KEYS = _qr_keys(os.environ.get("QR_KEYS"))  # None: one key derived from SECRET_KEY
    JWT_ISSUER = os.environ.get("JWT_ISSUER", "ecolife")
    JWT_AUDIENCE = os.environ.get("JWT_AUDIENCE", "ecolife-api")
    ACCESS_TOKEN_MINUTES = _at_least("ACCESS_TOKEN_MINUTES", 15, 1)
    REFRESH_TOKEN_DAYS = _at_least("REFRESH_TOKEN_DAYS", 30, 1)
    # OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane. Below argon2's own floor (8 KiB
    # per lane; ecolife/auth/passwords.py hashes with 1 lane, 1 iteration) no hash can be made.
    ARGON2_MEMORY_KIB = _at_least("ARGON2_MEMORY_KIB", 19456, 8)
    ARGON2_TIME_COST = _at_least("ARGON2_TIME_COST", 2, 1)

    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("DATABASE_URL"))  # None: embedded
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")  # None: in-process fakeredis
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "ecolife:")
    # Embedded (no REDIS_URL): fill the in-process leaderboards from the ledger on first read.
    FILL_EMBEDDED_BOARDS = True

    # Printed in every QR code ({PUBLIC_BASE_URL}/s/{token}): production must say it, since
    # stickers outlive any deploy; development serves http://localhost:5000.
    PUBLIC_BASE_URL = _base_url("PUBLIC_BASE_URL")
    ECOLIFE_TIMEZONE = _timezone("ECOLIFE_TIMEZONE", "Asia/Bangkok")
    # Where a phone number typed without a country code is (ISO 3166 code).
    PHONE_REGION = _phone_region("PHONE_REGION", "TH")
    POINTS_EXPIRE_DAYS = _at_least("POINTS_EXPIRE_DAYS", 365, 1)
    # API.md: "Keys are kept at least 24 hours".
    IDEMPOTENCY_KEEP_HOURS = _at_least("IDEMPOTENCY_KEEP_HOURS", 48, 24)
    # Share of a community's members active in 30 days for it to count as "clean".
    CLEAN_COMMUNITY_THRESHOLD = _fraction("CLEAN_COMMUNITY_THRESHOLD", 0.8)
    # Level thresholds on lifetime points: (points, name).
    LEVELS = (
        (0, "Seedling"),
        (100, "Sprout"),
        (300, "Sapling"),
        (800, "Young Tree"),
        (2000, "Forest Keeper"),
        (5000, "Eco Champion"),
    )

    # Larger bodies get 413; the floor of 1 KiB catches a typo such as 64 meant as 64K.
    MAX_CONTENT_LENGTH = _at_least("MAX_CONTENT_LENGTH", 64 * 1024, 1024)
    # Number of proxies in front of the app whose X-Forwarded-For is trusted.
    TRUSTED_PROXIES = _at_least("TRUSTED_PROXIES", 0, 0)
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # A moving window: a fixed one lets twice the limit through across a window's edge.
    RATELIMIT_STRATEGY = "moving-window"
    # Redis down or stalled: count in this process's memory instead of answering 500, and
    # give up on Redis within a quarter second (as RedisStore does), not redis-py's default.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}
    # Per IP means per IPv4 address or per IPv6 /64 (ecolife/extensions.py). Every attempt
    # counts, successful or not; a body refused before any view runs (not JSON, 400/415, or
    # holding a NUL, 422) tries no password and is not counted. ";" separates tiers that all
    # apply.
    LOGIN_LIMIT_PER_IP = _rate_limit("LOGIN_LIMIT_PER_IP", "20 per minute")
    LOGIN_LIMIT_PER_ACCOUNT = _rate_limit("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute; 30 per hour")
    REGISTER_LIMIT_PER_IP = _rate_limit("REGISTER_LIMIT_PER_IP", "30 per hour")
    # Every signed-in client refreshes every ACCESS_TOKEN_MINUTES, hence more than logins.
    REFRESH_LIMIT_PER_IP = _rate_limit("REFRESH_LIMIT_PER_IP", "30 per minute")
    # Per shop owner or operator: a counter hands over a few vouchers a minute, not one a second.
    FULFIL_LIMIT_PER_USER = _rate_limit("FULFIL_LIMIT_PER_USER", "60 per minute")

    # Web pages (ecolife/web): a login lasts this long unless its owner logs out, which ends
    # it on the server (a copied cookie is refused from then on).
    WEB_SESSION_DAYS = _at_least("WEB_SESSION_DAYS", 30, 1)
    # The cookie holds only the session's random token and the form key (Flask's signed
    # session): never readable by scripts, sent on a link followed from another site (so a
    # sticker opened from a chat app finds its resident logged in) but not on its forms.
    SESSION_COOKIE_NAME = "ecolife_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ECOLIFE_ENV == "production"
    # A page left open (a sticker's page, a confirm step) may be submitted hours later: its
    # form key is valid as long as the session, not Flask-WTF's default hour.
    WTF_CSRF_TIME_LIMIT = None
    # Thai first; English one tap away. Dates shown in the programme's time zone.
    BABEL_DEFAULT_LOCALE = "th"
    BABEL_DEFAULT_TIMEZONE = ECOLIFE_TIMEZONE

    API_TITLE = "EcoLife API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Served by the service itself (see ecolife/docs.py): /docs works offline.
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
    API_SPEC_OPTIONS = {
        "info": {"description": "Community recycling rewards: scan, earn, redeem."},
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
    }


class ProductionConfig(Config):
    DEBUG = False
    SESSION_COOKIE_SECURE = True


class TestConfig(Config):
    # Its own value, whatever the shell's ECOLIFE_ENV says; create_app accepts it only here.
    ECOLIFE_ENV = "testing"
    TESTING = True
    DEBUG = False
    # Cheap hashes keep the suite fast; production uses the OWASP figures above.
    ARGON2_MEMORY_KIB = 1024
    ARGON2_TIME_COST = 1
    SECRET_KEY = "test-secret-key-not-for-production-0123456789"
    JWT_KEYS = None
    QR_KEYS = None
    PUBLIC_BASE_URL = "https://ecolife.example"
    # The suite runs on whatever the environment points at, else embedded.
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("DATABASE_URL"))
    REDIS_URL = os.environ.get("REDIS_URL")
    # The app lives for the whole session: boards start as each test leaves them.
    FILL_EMBEDDED_BOARDS = False


def config_for_env():
    """The config class for ``ECOLIFE_ENV``."""
    return ProductionConfig if Config.ECOLIFE_ENV == "production" else Config
