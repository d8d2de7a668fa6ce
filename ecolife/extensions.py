"""The extensions, created unbound here and bound to an app in ``create_app``."""
import ipaddress

import fakeredis
import redis
from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData

from ecolife.errors import EcoApi

# Named constraints, so migrations can alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def execute_core(statement, parameters=None):
    """Run a Core statement (built on tables, not mapped classes) in the session's transaction.

    On the session's connection: ``db.session.execute`` would also take the ORM's
    per-statement path, a third of the cost of a hot path's small statement (measured).
    Unlike ``db.session.execute`` it does not autoflush: a caller with pending ORM changes
    the statement depends on flushes them first.
    """
    return db.session.connection().execute(statement, parameters)


# compare_type keeps column types in the autogenerate diff.
migrate = Migrate(compare_type=True)
api = EcoApi()
# Thai and English: the web pages, and the API's error messages (ecolife/web/i18n.py).
babel = Babel()
# Every form of the web pages; the API (bearer tokens, no cookies) is exempt (create_app).
csrf = CSRFProtect()


def client_network():
    """The rate limiter's "per IP": an IPv4 address, or the /64 an IPv6 address is in.

    An IPv6 subscriber is routinely given a whole /64 and may use any address in it; keyed
    on the full address, each of them would bring a fresh allowance.
    """
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an address (a test client's default, a unix socket): as it is
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:  # ::ffff:a.b.c.d is an IPv4 client: all of them share ::/64
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


limiter = Limiter(key_func=client_network)


class RedisStore:
    """The app's Redis client and its key namespace.

    Redis only ever holds derived, rebuildable data (leaderboards, in-flight markers); the
    database is the source of truth, so callers treat a Redis failure as a cache miss. The
    client lives on the app, so two apps never share one.
    """

    def init_app(self, app):
        url = app.config.get("REDIS_URL")
        if url:
            # Short timeouts and no retries: a stalled Redis must not stall a scan (redis-py's
            # default retries with backoff turn one refused connection into ~4 s).
            client = redis.Redis.from_url(
                url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30,
                retry=Retry(NoBackoff(), 0),
            )
        else:
            client = fakeredis.FakeRedis()
        app.extensions["ecolife_redis"] = {
            "client": client,
            "prefix": app.config["REDIS_KEY_PREFIX"],
            # An embedded Redis is born empty in each process: the leaderboards fill it from
            # the ledger on their first read (a real Redis keeps its boards across restarts).
            "boards_unfilled": not url and app.config["FILL_EMBEDDED_BOARDS"],
        }

    @property
    def embedded(self):
        """True when there is no REDIS_URL: this process's own in-memory Redis."""
        return not current_app.config.get("REDIS_URL")

    @property
    def client(self):
        return current_app.extensions["ecolife_redis"]["client"]

    @client.setter
    def client(self, value):  # lets a test swap in a dead or fake Redis
        current_app.extensions["ecolife_redis"]["client"] = value

    @property
    def prefix(self):
        return current_app.extensions["ecolife_redis"]["prefix"]

    def key(self, *parts):
        """A namespaced key: ``key("cd", 1, 2)`` -> ``ecolife:cd:1:2``."""
        return self.prefix + ":".join(str(p) for p in parts)


redis_store = RedisStore()
