"""Rate limits: a Redis outage, IPv6 /64s, refresh, voucher fulfilment, the hourly login tier."""
import os
import socket
import time

import limits.storage.memory
import limits.storage.redis
import pytest
from flask.testing import FlaskClient
from flask_limiter._extension import STRATEGIES
from limits.storage import storage_from_string
from sqlalchemy import text

from ecolife.auth import service as auth_service
from ecolife.extensions import client_network, db, limiter
from tests.factories import assert_error, auth, make_user

LOGIN = "/api/v1/auth/login"


def login(client, login="nobody@example.org", ip="192.0.2.1"):
    return client.post(LOGIN, json={"login": login, "password": "wrong password"},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def limiter_storage_at(app, monkeypatch):
    """Point the limiter at another storage URI, built with the app's own storage options."""

    def point(uri):
        storage = storage_from_string(uri, **app.config["RATELIMIT_STORAGE_OPTIONS"])
        monkeypatch.setattr(limiter, "_storage", storage)
        monkeypatch.setattr(limiter, "_limiter", STRATEGIES[app.config["RATELIMIT_STRATEGY"]](storage))
        monkeypatch.setattr(limiter, "_storage_dead", False)

    yield point
    fallback = getattr(limiter, "_fallback_storage", None)
    if fallback is not None:
        fallback.reset()


@pytest.fixture
def stalled_redis():
    """A TCP port that accepts connections and never answers: Redis hung, not down."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}"
    server.close()


class Clock:
    """time.time() as the rate-limit storages see it, ``offset`` seconds ahead."""

    def __init__(self):
        self.offset = 0.0

    def time(self):
        return time.time() + self.offset

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(limits.storage.redis, "time", fake)
    return fake


# 4. The limiter's Redis down: degrade to in-memory counting, never 500.

def test_login_and_register_answer_while_the_limiter_redis_is_down(client, limiter_storage_at):
    make_user(email="down@example.org")
    limiter_storage_at("redis://127.0.0.1:1")  # nothing listens there
    statuses = [login(client, "down@example.org").status_code for _ in range(6)]
    # The per-account limit still applies, counted in this process's memory.
    assert statuses == [401] * 5 + [429]
    assert_error(login(client, "down@example.org"), 429, "rate_limited")
    registered = client.post("/api/v1/auth/register", json={
        "email": "new@example.org", "password": "long enough password", "display_name": "นภา"})
    assert registered.status_code == 201


def test_a_stalled_limiter_redis_costs_a_quarter_second_not_seconds(client, limiter_storage_at,
                                                                     stalled_redis):
    limiter_storage_at(stalled_redis)
    started = time.monotonic()
    assert login(client).status_code == 401
    assert time.monotonic() - started < 2  # redis-py's defaults wait 5 s and more


# 5. Per IP means per IPv6 /64: each address in one must not bring a fresh allowance.

def test_addresses_of_one_ipv6_64_share_the_login_allowance(client):
    statuses = [login(client, f"u{n}@example.org", f"2001:db8:1:2::{n:x}").status_code
                for n in range(1, 41)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    # Another /64 and an IPv4 client are other clients.
    assert login(client, "u99@example.org", "2001:db8:1:3::1").status_code == 401
    assert login(client, "u99@example.org", "192.0.2.7").status_code == 401


@pytest.mark.parametrize("address, key", [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 via a dual-stack socket: not all in ::/64
    ("not-an-address", "not-an-address"),
])
def test_rate_limit_key_is_the_ipv4_address_or_the_ipv6_64(app, address, key):
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_network() == key


def test_ipv4_addresses_are_keyed_one_by_one(client):
    for n in range(1, 30):  # 29 clients, one attempt each: none is limited
        assert login(client, f"v{n}@example.org", f"192.0.2.{n}").status_code == 401


# 6. Limits where there were none, and a longer tier for the per-account login limit.

def test_refresh_is_rate_limited_per_ip(client, limiter_storage_at):
    limiter_storage_at("memory://")  # see test_voucher_fulfil_is_rate_limited_per_user
    def refresh(ip):
        return client.post("/api/v1/auth/refresh", json={"refresh_token": "guess"},
                           environ_base={"REMOTE_ADDR": ip})

    statuses = [refresh("192.0.2.1").status_code for _ in range(30)]
    assert statuses == [401] * 30
    limited = refresh("192.0.2.1")
    body = assert_error(limited, 429, "rate_limited")
    # The wait in the body too, as cooldown's and daily_limit's 429s give it.
    assert 0 < body["retry_after"] <= 61  # the window's 60 s, rounded up
    assert limited.headers["Retry-After"] == str(body["retry_after"])
    assert refresh("192.0.2.2").status_code == 401


def test_voucher_fulfil_is_rate_limited_per_user(client, limiter_storage_at):
    # Counted on memory://: on the suite's Redis this count (and the hourly tier's) came up
    # one short now and then in full PostgreSQL + Redis runs, never alone, never on memory://,
    # and with no fallback warning; a production-like run (a fresh app context per request)
    # counts right. A likely cause, fixed since: every run's limiter.reset() deleted every key
    # under limits' shared "LIMITS" prefix, so a suite running beside another lost counts (now
    # under REDIS_KEY_PREFIX, see create_app). Still on memory:// until that is proven.
    limiter_storage_at("memory://")
    owner, other = make_user("shop_owner"), make_user("shop_owner")

    def fulfil(user, ip):
        return client.post("/api/v1/vouchers/ABCDE-FGH23/fulfil", json={},
                           headers=auth(user), environ_base={"REMOTE_ADDR": ip})

    # Per caller, whatever address each request comes from.
    statuses = [fulfil(owner, f"192.0.2.{n}").status_code for n in range(1, 61)]
    assert statuses == [404] * 60
    limited = fulfil(owner, "198.51.100.1")
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert fulfil(other, "192.0.2.1").status_code == 404
    assert_error(client.post("/api/v1/vouchers/ABCDE-FGH23/fulfil", json={}), 401, "unauthorized")


def test_fulfil_documents_its_429(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "429" in spec["paths"]["/api/v1/vouchers/{voucher_code}/fulfil"]["post"]["responses"]
    assert "429" in spec["paths"]["/api/v1/auth/refresh"]["post"]["responses"]


def test_login_per_account_has_an_hourly_tier(client, clock, limiter_storage_at):
    limiter_storage_at("memory://")  # see test_voucher_fulfil_is_rate_limited_per_user
    make_user(email="slow@example.org")
    for minute in range(6):  # 5 a minute, under the per-minute tier: 30 in six minutes
        clock.offset = 61 * minute
        statuses = [login(client, "slow@example.org", f"192.0.2.{minute}").status_code
                    for _ in range(5)]
        assert statuses == [401] * 5, (minute, statuses)
    clock.offset = 61 * 6
    assert_error(login(client, "slow@example.org", "192.0.2.99"), 429, "rate_limited")
    assert login(client, "other@example.org", "192.0.2.99").status_code == 401


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="counts on the real Redis")
def test_limiter_keys_live_under_the_apps_prefix_and_name_no_email(app, client):
    # limits' own prefix is shared by every app on the Redis, and reset() deletes all of it.
    from ecolife.extensions import redis_store

    r = redis_store.client
    r.set("LIMITS:another-app", "1")
    try:
        login(client, "secret.person@example.org")
        keys = [k.decode() for k in r.scan_iter(match="*LIMITER*", count=1000)
                if redis_store.prefix.encode() in k or b"LIMITS" in k]
        assert keys and all(k.startswith(redis_store.prefix) for k in keys), keys
        assert not any("secret.person" in k for k in keys)
        limiter.reset()
        assert r.get("LIMITS:another-app") == b"1"
    finally:
        r.delete("LIMITS:another-app")


def test_an_unpaired_surrogate_in_a_login_neither_crashes_nor_resets_the_limits(
        client, limiter_storage_at):
    # JSON allows "\ud800"; UTF-8 cannot encode it. It used to crash the account key's hash,
    # which the limiter took for its store failing: a 500, and this process's counts restarted
    # on the in-memory fallback, with fresh guesses for an account at its limit.
    limiter_storage_at("memory://")
    make_user(email="victim@example.org")
    assert [login(client, "victim@example.org").status_code for _ in range(5)] == [401] * 5
    assert_error(login(client, "victim@example.org"), 429, "rate_limited")
    response = client.post(LOGIN, data='{"login": "\\ud800", "password": "x"}',
                           content_type="application/json",
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert "login" in assert_error(response, 422, "validation_error")["errors"]
    assert not limiter._storage_dead
    assert_error(login(client, "victim@example.org"), 429, "rate_limited")


def test_an_accounts_email_and_phone_share_one_login_allowance(client, limiter_storage_at):
    limiter_storage_at("memory://")
    make_user(email="carol@example.org", phone="+66897654321")
    assert [login(client, "carol@example.org").status_code for _ in range(5)] == [401] * 5
    for other in ("0897654321", "+66 89 765 4321", "CAROL@example.org"):
        assert_error(login(client, other, ip="198.51.100.9"), 429, "rate_limited")


def test_the_account_key_is_not_carried_over_to_the_next_request(app, limiter_storage_at):
    # A plain client in one app context (a script) shares g across requests: the key is
    # kept on the request, so bob is not counted as alice.
    limiter_storage_at("memory://")
    make_user(email="alice@example.org")
    make_user(email="bob@example.org")
    plain = FlaskClient(app)
    assert [login(plain, "alice@example.org").status_code for _ in range(5)] == [401] * 5
    assert login(plain, "bob@example.org", ip="192.0.2.2").status_code == 401


@pytest.mark.parametrize("failure", ["SET LOCAL statement_timeout = 10; SELECT pg_sleep(0.2)",
                                     "SELECT pg_terminate_backend(pg_backend_pid())"])
def test_a_database_failure_in_the_key_lookup_is_not_a_500(client, limiter_storage_at,
                                                           monkeypatch, failure):
    # The key function swallows the failure; it must not leave the login's own query on a
    # dead transaction (a 500): the login runs, or meets the outage itself (503).
    limiter_storage_at("memory://")
    make_user(email="erin@example.org")
    lookup, calls = auth_service._account, []

    def failing_once(text_):
        calls.append(text_)
        if len(calls) == 1:
            for statement in failure.split("; "):
                db.session.execute(text(statement))
        return lookup(text_)

    monkeypatch.setattr(auth_service, "_account", failing_once)
    assert login(client, "erin@example.org").status_code in (401, 503)
