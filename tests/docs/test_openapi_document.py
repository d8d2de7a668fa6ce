"""The served OpenAPI document against what runs: each answer below is a real one, and the
document must list its status and a schema that accepts its body (API.md: the document
"must describe exactly what runs")."""
import re

import jsonschema_rs
import pytest
import redis

from ecolife.extensions import db, redis_store
from ecolife.rewards.models import Reward
from tests.factories import assert_error, auth, make_shop, make_user, make_village

API = "/api/v1"
BEARER = "bearerAuth"


@pytest.fixture
def spec(client):
    return client.get(f"{API}/openapi.json").get_json()


def _inline(node, spec):
    """``node`` with every local ``$ref`` replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inline(target, spec)
        return {key: _inline(value, spec) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, spec) for item in node]
    return node


def operation(spec, method, path):
    return spec["paths"][API + path][method]


def documented(spec, method, path, response):
    """The document's response object for this real answer; its body must fit the schema."""
    responses = operation(spec, method, path)["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path}: {status} is not documented"
    documented_response = _inline(responses[status], spec)
    schema = documented_response["content"]["application/json"]["schema"]
    body = response.get_json()
    assert jsonschema_rs.Draft4Validator(schema).is_valid(body), (schema, body)
    return documented_response


def body_schema(spec, method, path):
    body = operation(spec, method, path)["requestBody"]
    return jsonschema_rs.Draft4Validator(_inline(body["content"]["application/json"]["schema"],
                                                 spec))


# 1. /readyz

def test_readyz_503_is_documented_with_its_checks(client, spec, monkeypatch):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(redis_store, "client", dead)
    response = client.get(f"{API}/readyz")
    body = assert_error(response, 503, "not_ready")
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("error")
    documented(spec, "get", "/readyz", response)


# 2. Statuses the service sends

def _reward(**fields):
    reward = Reward(name="ถุงผ้า Cloth bag", cost_points=10, stock=5, stock_left=5, **fields)
    db.session.add(reward)
    db.session.commit()
    return reward


MISSING = 2**31 - 1  # the largest id routing accepts: never a row here


@pytest.mark.parametrize(
    ("method", "path", "url", "role", "status", "error"),
    [
        ("get", "/rewards/{reward_id}", f"/rewards/{MISSING}", None, 404, "unknown_reward"),
        ("delete", "/rewards/{reward_id}", f"/rewards/{MISSING}", "operator", 404,
         "unknown_reward"),
        ("get", "/redemptions/{redemption_id}", f"/redemptions/{MISSING}", "resident", 404,
         "unknown_voucher"),
        ("get", "/communities/{community_id}", f"/communities/{MISSING}", None, 404,
         "unknown_community"),
        ("patch", "/communities/{community_id}", f"/communities/{MISSING}", "operator", 404,
         "unknown_community"),
        ("get", "/rewards", "/rewards?include=all", "resident", 403, "forbidden"),
        ("get", "/rewards", "/rewards?include=all", None, 403, "forbidden"),
    ],
)
def test_refusals_are_documented(client, spec, method, path, url, role, status, error):
    user = make_user(role) if role else None
    json = {"name": "x"} if method == "patch" else None
    response = client.open(API + url, method=method, json=json, headers=auth(user))
    assert_error(response, status, error)
    assert error in documented(spec, method, path, response)["description"]


def test_a_voucher_of_another_resident_is_a_documented_404(client, spec):
    from tests.rewards.helpers import give_points, redeem

    owner, other = make_user("resident"), make_user("resident")
    give_points(owner, 50)
    voucher = redeem(client, owner, _reward().id).get_json()
    response = client.get(f"{API}/redemptions/{voucher['id']}", headers=auth(other))
    assert_error(response, 404, "unknown_voucher")
    assert "unknown_voucher" in documented(spec, "get", "/redemptions/{redemption_id}",
                                           response)["description"]


# 3. Optional auth: anyone is served, but a token that is sent must be valid

OPTIONAL_AUTH = [
    ("/shops", "/shops"),
    ("/shops/{shop_id}", "/shops/{shop}"),
    ("/shops/{shop_id}/impact", "/shops/{shop}/impact"),
    ("/rewards", "/rewards"),
    ("/rewards/{reward_id}", "/rewards/{reward}"),
    ("/badges", "/badges"),
    ("/badges/{slug}", "/badges/{badge}"),
]


@pytest.mark.parametrize(("path", "url"), OPTIONAL_AUTH, ids=[p for p, _ in OPTIONAL_AUTH])
@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_optional_auth_refuses_a_bad_token_and_says_so(client, spec, path, url, header):
    ids = {"shop": make_shop(community_id=make_village().id).id, "reward": _reward().id,
           "badge": client.get(f"{API}/badges").get_json()[0]["slug"]}
    url = API + url.format(**ids)
    assert client.get(url).status_code == 200  # anonymous: served
    response = client.get(url, headers={"Authorization": header})
    assert_error(response, 401, "invalid_token" if header.startswith("Bearer") else "unauthorized")

    op = operation(spec, "get", path)
    assert op.get("security") == [{}, {BEARER: []}]
    assert BEARER in spec["components"]["securitySchemes"]
    description = documented(spec, "get", path, response)["description"]
    assert "invalid_token" in description and "not treated as anonymous" in description


def test_every_view_reading_an_optional_token_is_documented_so(app, spec):
    """Views that call optional_user(): exactly the operations documented with optional auth."""
    optional = {(method, path.removeprefix(API)) for path, ops in spec["paths"].items()
                for method, op in ops.items()
                if isinstance(op, dict) and {} in op.get("security", [])}
    assert optional == {("get", path) for path, _ in OPTIONAL_AUTH}
    readers = set()
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            func = getattr(view_class, method.lower(), None)
            while func is not None and "optional_user" not in func.__code__.co_names:
                func = getattr(func, "__wrapped__", None)  # through the decorators
            if func is not None:
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API))
                readers.add((method.lower(), path))
    assert readers == optional


# 4. Request bodies with cross-field rules

def test_scan_body_is_required_with_exactly_one_of_token_and_url(client, spec):
    body = operation(spec, "post", "/scans")["requestBody"]
    assert body["required"] is True and "exactly one of `token` and `url`" in body[
        "description"].lower()
    schema = body_schema(spec, "post", "/scans")
    resident = make_user("resident")
    for payload in ({}, {"token": "a", "url": "b"}, {"latitude": 1.0, "longitude": 2.0}):
        response = client.post(f"{API}/scans", json=payload, headers=auth(resident))
        assert_error(response, 422, "validation_error")
        assert not schema.is_valid(payload), payload
    for payload in ({"token": "abc"}, {"url": "https://x/s/abc", "latitude": 1, "longitude": 2}):
        assert schema.is_valid(payload), payload


def test_register_body_says_email_or_phone(client, spec):
    response = client.post(f"{API}/auth/register",
                           json={"password": "long enough pw", "display_name": "Somchai"})
    assert assert_error(response, 422, "validation_error")["errors"]["email"]
    description = operation(spec, "post", "/auth/register")["requestBody"]["description"]
    assert "`email`" in description and "`phone`" in description and "required" in description


def test_the_default_error_names_the_refusals_any_operation_may_give(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    description = spec["components"]["responses"]["DEFAULT_ERROR"]["description"]
    for code in ("bad_request", "payload_too_large", "unsupported_media_type", "unavailable"):
        assert f"`{code}`" in description


def test_a_reused_idempotency_key_is_named_on_the_422_of_every_keyed_operation(client, spec):
    resident = make_user()
    headers = auth(resident, **{"Idempotency-Key": "k-1"})
    client.post(f"{API}/redemptions", json={"reward_id": 1}, headers=headers)
    reused = client.post(f"{API}/redemptions", json={"reward_id": 2}, headers=headers)
    assert_error(reused, 422, "idempotency_key_reused")
    keyed = [(path, method) for path, item in spec["paths"].items()
             for method, op in item.items() if method != "parameters"
             and any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", []))]
    assert len(keyed) == 4, keyed
    for path, method in keyed:
        assert "idempotency_key_reused" in operation(
            spec, method, path.removeprefix(API))["responses"]["422"]["description"]


def test_every_documented_429_declares_its_retry_after_header(spec):
    # Every 429 sends it (tests/scans/test_limits.py, tests/auth/test_security.py): declared,
    # generated clients expose it.
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method != "parameters" and "429" in op["responses"]:
                assert "Retry-After" in _inline(op["responses"]["429"], spec)["headers"], path
