"""Token attacks, role escalation, brute force, and the error shape of every failure."""
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from ecolife.auth.tokens import signing_keys
from tests.factories import PASSWORD, assert_error, auth, make_user, token


def claims_for(user, **overrides):
    now = datetime.now(UTC)
    claims = {
        "iss": "ecolife", "aud": "ecolife-api", "sub": str(user.id), "iat": now,
        "exp": now + timedelta(minutes=5), "typ": "access", "role": user.role,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims, key=None, kid="k0", alg="HS256"):
    key = key if key is not None else signing_keys()["k0"]
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def get_me(client, bearer):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})


def test_valid_token_is_accepted(client):
    user = make_user()
    assert get_me(client, sign(claims_for(user))).status_code == 200


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda u: sign(claims_for(u), key=b"x" * 32), id="wrong-key"),
        pytest.param(lambda u: token(u)[:-3] + ("AAA" if token(u)[-3:] != "AAA" else "BBB"),
                     id="tampered-signature"),
        pytest.param(lambda u: sign(claims_for(u, aud="someone-else")), id="wrong-audience"),
        pytest.param(lambda u: sign(claims_for(u, iss="evil")), id="wrong-issuer"),
        pytest.param(
            lambda u: sign(claims_for(u, exp=datetime.now(UTC) - timedelta(seconds=1))),
            id="expired",
        ),
        pytest.param(lambda u: sign(claims_for(u, exp=None)), id="no-exp"),
        pytest.param(lambda u: sign(claims_for(u, typ="refresh")), id="not-access"),
        pytest.param(lambda u: sign(claims_for(u), kid="unknown"), id="unknown-kid"),
        pytest.param(lambda u: jwt.encode(claims_for(u), None, algorithm="none"), id="alg-none"),
        pytest.param(
            lambda u: sign(claims_for(u), alg="HS512"), id="hs512",
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
        pytest.param(lambda u: "not.a.jwt", id="garbage"),
        pytest.param(lambda u: "é" * 50, id="non-ascii"),
    ],
)
def test_bad_access_tokens_are_401(client, mutate):
    user = make_user()
    assert_error(get_me(client, mutate(user)), 401, "invalid_token")


def test_rotating_jwt_keys_keeps_both_kids_valid_and_only_them(app, client, monkeypatch):
    """With JWT_KEYS the first key signs and every listed key verifies, by its own kid."""
    user = make_user()
    old = sign(claims_for(user))  # the derived key, k0
    new_secret, old_secret = "n" * 43, "o" * 43
    monkeypatch.setitem(app.config, "JWT_KEYS", {"k2": new_secret, "k1": old_secret})
    issued = token(user)
    assert jwt.get_unverified_header(issued)["kid"] == "k2"
    assert get_me(client, issued).status_code == 200
    assert get_me(client, sign(claims_for(user), old_secret.encode(), kid="k1")).status_code == 200
    for bearer in (old,  # k0 is no longer listed
                   sign(claims_for(user), old_secret.encode(), kid="k2"),  # key of another kid
                   sign(claims_for(user), new_secret.encode(), kid="k9")):
        assert_error(get_me(client, bearer), 401, "invalid_token")


def test_token_of_deleted_user_is_401(client):
    user = make_user()
    bearer = sign(claims_for(user, sub="999999"))
    assert_error(get_me(client, bearer), 401, "invalid_token")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Token x"])
def test_missing_or_malformed_authorization_is_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_refresh_token_is_not_an_access_token_and_vice_versa(client):
    user = make_user(email="t@example.org")
    pair = client.post(
        "/api/v1/auth/login", json={"login": "t@example.org", "password": PASSWORD}
    ).get_json()
    assert_error(get_me(client, pair["refresh_token"]), 401, "invalid_token")
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert_error(refresh, 401, "invalid_token")
    assert user.id


def test_operator_endpoints_refuse_other_roles(client):
    body = {"name": "ลำพูน", "kind": "province"}
    for role in ("resident", "shop_owner"):
        response = client.post("/api/v1/communities", json=body, headers=auth(make_user(role)))
        assert_error(response, 403, "forbidden")
    assert_error(client.post("/api/v1/communities", json=body), 401, "unauthorized")
    ok = client.post("/api/v1/communities", json=body, headers=auth(make_user("operator")))
    assert ok.status_code == 201


def test_brute_force_login_is_rate_limited_per_account(client):
    make_user(email="victim@example.org")
    body = {"login": "victim@example.org", "password": "wrong password"}
    responses = [client.post("/api/v1/auth/login", json=body) for _ in range(6)]
    assert [r.status_code for r in responses] == [401] * 5 + [429]
    # The limit's figures on every answer; "retry after" only on the refusal.
    first = responses[0].headers
    assert first["X-RateLimit-Remaining"] and "Retry-After" not in first
    limited = client.post("/api/v1/auth/login", json=body)
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    # Even the right password waits: the account is under attack.
    right = client.post("/api/v1/auth/login", json={"login": "victim@example.org",
                                                    "password": PASSWORD})
    assert right.status_code == 429


def test_brute_force_across_accounts_is_rate_limited_per_ip(client):
    statuses = [
        client.post("/api/v1/auth/login", json={"login": f"u{i}@example.org", "password": "x"})
        .status_code
        for i in range(21)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_unknown_fields_are_422(client):
    response = client.post("/api/v1/auth/login", json={"login": "a", "password": "b", "admin": 1})
    body = assert_error(response, 422, "validation_error")
    assert "admin" in body["errors"]


@pytest.mark.parametrize(
    "method, path, status, error",
    [
        ("get", "/api/v1/nowhere", 404, "not_found"),
        ("delete", "/api/v1/me", 405, "method_not_allowed"),
    ],
)
def test_framework_errors_have_the_contract_shape(client, method, path, status, error):
    assert_error(getattr(client, method)(path), status, error)


def test_oversized_body_is_413(client):
    big = {"login": "a" * 100_000, "password": "b"}
    assert_error(client.post("/api/v1/auth/login", json=big), 413, "payload_too_large")


def test_malformed_json_is_a_json_error(client):
    response = client.post(
        "/api/v1/auth/login", data="{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["error"] in ("bad_request", "validation_error")


def test_parallel_login_burst_cannot_outrun_the_account_limit(app):
    """Attempts are counted before the password check, so a burst is limited too."""
    from concurrent.futures import ThreadPoolExecutor

    make_user(email="burst@example.org")

    def attempt(i):
        with app.test_client() as c:
            return c.post(
                "/api/v1/auth/login",
                json={"login": "burst@example.org", "password": f"guess {i}"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
            ).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert statuses.count(401) <= 5 and statuses.count(429) >= 15, statuses


def test_qr_key_ids_must_fit_in_a_byte():
    from config import _qr_keys

    assert _qr_keys("7:" + "x" * 40) == {"7": "x" * 40}
    with pytest.raises(ValueError):
        _qr_keys("k1:" + "x" * 40)


def test_the_derived_key_can_be_named_only_under_its_own_kid():
    from config import _jwt_keys, _qr_keys

    assert _qr_keys("1:" + "x" * 40 + ",0:derived") == {"1": "x" * 40, "0": "derived"}
    assert _jwt_keys("k1:" + "x" * 40 + ",k0:derived")["k0"] == "derived"
    for parse, spec in ((_qr_keys, "5:derived"), (_jwt_keys, "k1:derived"), (_qr_keys, "0:short")):
        with pytest.raises(ValueError):
            parse(spec)


def test_moving_to_configured_jwt_keys_keeps_the_derived_one_verifying(app, client, monkeypatch):
    user = make_user()
    old = sign(claims_for(user))  # the derived key, k0
    monkeypatch.setitem(app.config, "JWT_KEYS", {"k1": "n" * 43, "k0": "derived"})
    issued = token(user)
    assert jwt.get_unverified_header(issued)["kid"] == "k1"
    assert get_me(client, issued).status_code == 200
    assert get_me(client, old).status_code == 200
