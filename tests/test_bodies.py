"""Bodies the service cannot read as JSON are refused before any view runs, and write nothing."""
import io

import pytest
from sqlalchemy import func, select

from ecolife.extensions import db
from ecolife.shops.models import Shop
from ecolife.users.models import User
from ecolife.codes.service import code_url
from ecolife.idempotency.models import IdempotencyKey
from tests.factories import assert_error, auth, make_code, make_shop, make_user
from tests.scans.helpers import written


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "display_name=Mallory"),
    ("text/plain", '{"display_name": "Mallory"}'),
    (None, '{"display_name": "Mallory"}'),
])
def test_a_body_that_is_not_json_is_415_and_changes_nothing(client, content_type, body):
    user = make_user(display_name="Somchai")
    headers = auth(user) | ({"Content-Type": content_type} if content_type else {})
    response = client.patch("/api/v1/me", data=body, headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert client.get("/api/v1/me", headers=auth(user)).get_json()["display_name"] == "Somchai"


def test_an_action_without_a_body_needs_no_content_type(client):
    operator, shop = make_user("operator"), make_shop(status="pending")
    response = client.post(f"/api/v1/shops/{shop.id}/approve", headers=auth(operator))
    assert response.status_code == 200 and response.get_json()["status"] == "approved"


def test_a_text_body_on_an_action_is_refused_too(client, app):
    operator, shop = make_user("operator"), make_shop(status="pending")
    response = client.post(f"/api/v1/shops/{shop.id}/approve", data="hello",
                           headers=auth(operator) | {"Content-Type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")
    assert app.extensions["sqlalchemy"].session.scalar(
        select(Shop.status).where(Shop.id == shop.id)) == "pending"


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/me"])
def test_json_nested_too_deep_is_a_400_not_a_crash(client, path):
    user = make_user()
    deep = "[" * 30_000 + "]" * 30_000  # under the body limit, past the parser's recursion
    method = client.patch if path == "/api/v1/me" else client.post
    response = method(path, data=deep, content_type="application/json", headers=auth(user))
    assert_error(response, 400, "bad_request")


HUGE = "9" * 5000  # past the 4,300 digits Python turns into an int: json raises ValueError


@pytest.mark.parametrize("path, body", [
    ("/api/v1/auth/login", '{"login": "a@example.org", "password": %s}' % HUGE),
    ("/api/v1/auth/register", '{"email": "a@example.org", "password": "long enough", '
                              '"display_name": "A", "community_id": %s}' % HUGE),
    ("/api/v1/auth/refresh", '{"refresh_token": %s}' % HUGE),
])
def test_a_number_too_long_to_read_is_a_400_not_a_crash(client, path, body):
    response = client.post(path, data=body, content_type="application/json")
    assert_error(response, 400, "bad_request")
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_number_too_long_to_read_in_a_keyed_scan_is_a_400_and_writes_nothing(client):
    resident, code = make_user(), make_code(make_shop())
    body = '{"url": "%s", "latitude": %s, "longitude": 1}' % (code_url(code), HUGE)
    response = client.post("/api/v1/scans", data=body, content_type="application/json",
                           headers=auth(resident, **{"Idempotency-Key": "huge"}))
    assert_error(response, 400, "bad_request")
    assert written() == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_malformed_body_at_an_unknown_url_is_still_a_404(client):
    response = client.post("/api/v1/nowhere", data="{not json", content_type="application/json")
    assert_error(response, 404, "not_found")


def test_json_nested_too_deep_with_an_idempotency_key_is_a_400(client):
    resident = make_user()
    response = client.post("/api/v1/scans", data="[" * 30_000 + "]" * 30_000,
                           content_type="application/json",
                           headers=auth(resident, **{"Idempotency-Key": "deep"}))
    assert_error(response, 400, "bad_request")


def chunked(body):
    """A chunked upload, as a server that de-chunks it (gunicorn) hands it to the app."""
    return {"input_stream": io.BytesIO(body), "headers": {"Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True}}


def test_an_empty_chunked_body_needs_no_type_either(client):
    operator, shop = make_user("operator"), make_shop(status="pending")
    request = chunked(b"")
    request["headers"] |= auth(operator)
    response = client.post(f"/api/v1/shops/{shop.id}/approve", **request)
    assert response.status_code == 200 and response.get_json()["status"] == "approved"


def test_a_chunked_text_body_is_415(client):
    user = make_user(display_name="Somchai")
    request = chunked(b"display_name=Mallory")
    request["headers"] |= auth(user) | {"Content-Type": "text/plain"}
    assert_error(client.patch("/api/v1/me", **request), 415, "unsupported_media_type")


def test_an_unknown_url_stays_a_404_whatever_its_body(client):
    response = client.post("/api/v1/nope", data="hello", content_type="text/plain")
    assert_error(response, 404, "not_found")


def test_a_recursion_of_our_own_is_a_500_not_the_clients_fault(client, monkeypatch):
    from ecolife.actions import service

    def runaway(*args, **kwargs):
        return runaway(*args, **kwargs)

    monkeypatch.setattr(service, "get_action", runaway)
    response = client.get("/api/v1/actions/no_straw")
    assert_error(response, 500, "internal_error")


BEYOND = 2**40  # no 32-bit id column holds it


@pytest.mark.parametrize("method, url, body, field", [
    ("patch", "/api/v1/me", {"community_id": BEYOND}, "community_id"),
    ("post", "/api/v1/auth/register", {"email": "far@example.org", "password": "password123",
                                       "display_name": "far", "community_id": BEYOND},
     "community_id"),
    ("post", "/api/v1/redemptions", {"reward_id": BEYOND}, "reward_id"),
    ("post", "/api/v1/redemptions", {"reward_id": -5}, "reward_id"),
    ("get", "/api/v1/communities?parent_id=99999999999999999", None, "parent_id"),
    ("get", "/api/v1/leaderboards?community_id=0", None, "community_id"),
])
def test_an_id_no_column_can_hold_is_a_422_on_its_field(client, method, url, body, field):
    user = make_user()
    response = getattr(client, method)(url, json=body, headers=auth(user))
    assert field in assert_error(response, 422, "validation_error")["errors"]


def test_a_page_far_past_the_end_is_empty(client):
    user = make_user()
    response = client.get("/api/v1/me/ledger?page=99999999999999999999", headers=auth(user))
    assert response.status_code == 200 and response.get_json() == []
    assert '"total": 0' in response.headers["X-Pagination"]


@pytest.mark.parametrize("field, value", [
    ("starts_at", "0001-01-01T00:00:00+14:00"),
    ("ends_at", "9999-12-31T23:59:59-01:00"),
])
def test_a_moment_with_no_utc_equivalent_is_a_422_on_its_field(client, field, value):
    body = {"name": "far", "cost_points": 1, "stock": None, field: value}
    response = client.post("/api/v1/rewards", json=body, headers=auth(make_user("operator")))
    assert field in assert_error(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize("method, url, body, field", [
    ("post", "/api/v1/shops", {"name": "ร้าน\u0000ป้า"}, "name"),
    ("post", "/api/v1/shops", {"name": "ok", "tags": ["a", "b\u0000"]}, "tags[1]"),
    ("get", "/api/v1/shops?category=caf%00e", None, "category"),
])
def test_a_nul_character_is_a_422_on_its_field_and_writes_nothing(client, method, url, body,
                                                                   field):
    owner = make_user("shop_owner")
    response = getattr(client, method)(url, json=body, headers=auth(owner))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert db.session.scalars(select(Shop)).all() == []


# Valid JSON escapes that UTF-8 cannot encode: they crashed password hashing and the driver.
@pytest.mark.parametrize("url, body, field", [
    ("/api/v1/shops", '{"name": "\\ud800"}', "name"),
    ("/api/v1/shops", '{"name": "ok", "address": "x\\udfff"}', "address"),
    ("/api/v1/shops", '{"name": "ok", "\\ud83d": 1}', "body"),
    ("/api/v1/auth/register",
     '{"email": "a@example.org", "password": "\\ud800 long enough", "display_name": "A"}',
     "password"),
    ("/api/v1/auth/login", '{"login": "a@example.org", "password": "\\udc00"}', "password"),
])
def test_an_unpaired_surrogate_is_a_422_on_its_field_and_writes_nothing(client, url, body,
                                                                        field):
    owner = make_user("shop_owner")
    response = client.post(url, data=body, content_type="application/json", headers=auth(owner))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert db.session.scalars(select(Shop)).all() == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_paired_surrogate_escape_is_text_like_any_other(client):
    owner = make_user("shop_owner")
    response = client.post("/api/v1/shops", data='{"name": "ร้าน \\ud83c\\udf3f"}',
                           content_type="application/json", headers=auth(owner))
    assert response.status_code == 201
    assert response.get_json()["name"] == "ร้าน \U0001f33f"
