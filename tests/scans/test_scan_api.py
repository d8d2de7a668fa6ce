"""POST /scans: the credit, its response, who may scan and every refusal of the table."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ecolife.actions.models import Action
from ecolife.codes import tokens
from ecolife.codes.service import code_url, current_token
from ecolife.communities.models import Community
from ecolife.extensions import db
from ecolife.idempotency.models import IdempotencyKey
from ecolife.points.models import LedgerEntry, PointLot
from ecolife.scans.models import Scan
from ecolife.shops.models import Shop
from ecolife.users.models import User
from tests.factories import assert_error, auth, make_code, make_shop, make_user, make_village
from tests.points.helpers import credit_at, ledger
from tests.scans.helpers import scan, written

# Wat Phra That Hariphunchai, Lamphun, and points about 50 m and 2 km from it.
SHOP_AT = {"latitude": 18.5776, "longitude": 99.0087}
NEAR = {"latitude": 18.5780, "longitude": 99.0087}
FAR = {"latitude": 18.5956, "longitude": 99.0087}


def test_a_scan_credits_the_action_and_answers_the_new_standing(client):
    resident = make_user()
    shop = make_shop(name="ร้านกาแฟป่าซาง")
    code = make_code(shop, "no_plastic_bag")
    response = scan(client, resident, code)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["points"] == 5 and body["balance"] == 5
    assert body["shop"] == {"id": shop.id, "name": "ร้านกาแฟป่าซาง"}
    assert body["action"] == "no_plastic_bag"
    assert body["impact"] == {"unit": "plastic_bag", "amount": 1}
    assert body["new_badges"] == [{"slug": "first_scan", "name": "First step"}]
    assert body["level"] == {"number": 1, "name": "Seedling", "points_to_next": 95}
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None

    stored = db.session.get(Scan, body["id"])
    assert (stored.user_id, stored.code_id, stored.shop_id, stored.points) == (
        resident.id, code.id, shop.id, 5)
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.scan_id == stored.id))
    assert (entry.kind, entry.delta, entry.balance_after) == ("earn", 5, 5)
    assert (entry.shop_id, entry.code_id, entry.user_id) == (shop.id, code.id, resident.id)
    lot = db.session.scalar(select(PointLot).where(PointLot.entry_id == entry.id))
    assert lot.remaining == 5 and (lot.expires_at - stored.created_at).days == 365
    user = db.session.get(User, resident.id)
    assert (user.balance, user.lifetime_points) == (5, 5)


def test_the_raw_token_works_like_the_url(client):
    resident = make_user()
    code = make_code(make_shop(), "own_cup")
    response = scan(client, resident, token=current_token(code))
    assert response.status_code == 201
    assert response.get_json()["action"] == "own_cup"


def test_a_scan_copies_the_rule_so_later_changes_leave_history_alone(client):
    resident = make_user()
    code = make_code(make_shop(), "no_straw")
    first = scan(client, resident, code).get_json()
    action = db.session.scalar(select(Action).where(Action.slug == "no_straw"))
    action.points, action.cooldown_minutes = 7, 0
    db.session.commit()
    second = scan(client, resident, code).get_json()
    assert (first["points"], second["points"], second["balance"]) == (2, 7, 9)
    assert db.session.get(Scan, first["id"]).points == 2


def test_a_rotating_code_scans_with_the_token_its_screen_shows(client):
    resident = make_user()
    code = make_code(make_shop(), mode="rotating")
    assert scan(client, resident, code).status_code == 201


@pytest.mark.parametrize(
    "role, status, error",
    [("resident", 201, None), ("shop_owner", 403, "forbidden"), ("operator", 403, "forbidden"),
     (None, 401, "unauthorized")],
)
def test_only_residents_scan(client, role, status, error):
    user = make_user(role) if role else None
    response = scan(client, user, make_code(make_shop()))
    if error:
        assert_error(response, status, error)
        assert written() == (0, 0, 0)
    else:
        assert response.status_code == status


def _forged(token):
    raw = bytearray(tokens.base64.urlsafe_b64decode(token))
    raw[-1] ^= 1
    return tokens.base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "body",
    [
        {"token": "not-a-token"},
        {"token": ""},
        {"token": "A" * 24},
        {"url": "https://evil.example/s/AAAAAAAAAAAAAAAAAAAAAAAA"},
        {"url": "just some text"},
        {"url": ""},
    ],
)
def test_malformed_codes_are_unknown(client, body):
    resident = make_user()
    make_code(make_shop())
    assert_error(scan(client, resident, **body), 404, "unknown_code")
    assert written() == (0, 0, 0)


def test_forged_unknown_and_wrong_kind_tokens_are_unknown(client, app):
    resident = make_user()
    static = make_code(make_shop())
    rotating = make_code(make_shop(), mode="rotating")
    counter = tokens.counter_at(datetime.now(UTC).timestamp())
    cases = [
        _forged(current_token(static)),
        _forged(current_token(rotating)),
        tokens.sign_static(static.id + 1000, b"k" * 32, "0"),  # id not in the database
        tokens.sign_static(static.id, b"wrong key, thirty-two bytes long", "0"),
        # A rotating token for a static code, signed with a key the attacker chose.
        tokens.sign_rotating(static.id, b"x" * 20, counter),
    ]
    for token in cases:
        assert_error(scan(client, resident, token=token), 404, "unknown_code")
    assert written() == (0, 0, 0)


def test_revoked_code_is_gone(client):
    resident = make_user()
    code = make_code(make_shop())
    code.revoked_at = datetime.now(UTC)
    db.session.commit()
    assert_error(scan(client, resident, code), 410, "code_revoked")
    assert written() == (0, 0, 0)


def test_rotating_token_past_its_window_is_expired(client):
    resident = make_user()
    code = make_code(make_shop(), mode="rotating")
    old = datetime.fromtimestamp(datetime.now(UTC).timestamp() - 3 * tokens.STEP_SECONDS, UTC)
    assert_error(scan(client, resident, code, now=old), 410, "code_expired")
    code.revoked_at = datetime.now(UTC)
    db.session.commit()
    # Revocation is the lasting answer, even for an old token.
    assert_error(scan(client, resident, code, now=old), 410, "code_revoked")
    assert written() == (0, 0, 0)


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_a_shop_not_approved_earns_nothing(client, status):
    resident = make_user()
    code = make_code(make_shop())  # codes are made while approved
    db.session.get(Shop, code.shop_id).status = status
    db.session.commit()
    assert_error(scan(client, resident, code), 403, "shop_not_active")
    assert written(resident.id) == (0, 0, 0)


def test_a_switched_off_rule_earns_nothing(client):
    resident = make_user()
    code = make_code(make_shop())
    db.session.get(Action, code.action_id).active = False
    db.session.commit()
    assert_error(scan(client, resident, code), 403, "action_not_active")
    assert written() == (0, 0, 0)


def test_geofence_refuses_a_location_outside_it(client):
    resident = make_user()
    code = make_code(make_shop(**SHOP_AT, geofence_m=200))
    assert_error(scan(client, resident, code, **FAR), 403, "too_far")
    assert written() == (0, 0, 0)
    response = scan(client, resident, code, **NEAR)
    assert response.status_code == 201
    stored = db.session.get(Scan, response.get_json()["id"])
    assert (stored.latitude, stored.longitude) == (NEAR["latitude"], NEAR["longitude"])


@pytest.mark.parametrize(
    "shop_fields",
    [{}, {"geofence_m": 200}, SHOP_AT],  # no location; a fence but no place; a place, no fence
    ids=["no-location", "fence-only", "place-only"],
)
def test_geofence_applies_only_when_the_shop_has_a_place_and_a_fence(client, shop_fields):
    resident = make_user()
    code = make_code(make_shop(**shop_fields))
    assert scan(client, resident, code, **FAR).status_code == 201


def test_geofence_applies_only_when_the_client_sent_a_location(client):
    resident = make_user()
    code = make_code(make_shop(**SHOP_AT, geofence_m=200))
    assert scan(client, resident, code).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "x" * 24, "url": "https://ecolife.example/s/" + "x" * 24},
        {"url": "https://ecolife.example/s/x", "latitude": 18.5},
        {"url": "https://ecolife.example/s/x", "longitude": 99.0},
        {"url": "https://ecolife.example/s/x", "latitude": 91, "longitude": 99.0},
        {"url": "https://ecolife.example/s/x", "latitude": 18.5, "longitude": -181},
        {"url": "https://ecolife.example/s/x", "points": 500},
        {"token": 12345},
    ],
)
def test_bad_bodies_are_422(client, body):
    resident = make_user()
    assert_error(scan(client, resident, **body), 422, "validation_error")
    assert written() == (0, 0, 0)


def test_the_credit_is_published_to_the_village_and_every_community_above(client, monkeypatch):
    from ecolife.leaderboards import service as leaderboards

    published = []
    monkeypatch.setattr(leaderboards, "publish_credit",
                        lambda *args: published.append(args))
    village = make_village()
    tambon = db.session.get(Community, village.parent_id)
    district = db.session.get(Community, tambon.parent_id)
    resident, homeless = make_user(community_id=village.id), make_user()
    code = make_code(make_shop())
    body = scan(client, resident, code).get_json()
    scan(client, homeless, code)
    (user_id, points, at, communities), (other_id, _, _, none) = published
    assert (user_id, points, other_id) == (resident.id, 5, homeless.id)
    assert communities == [village.id, tambon.id, district.id, district.parent_id]
    assert none == []
    assert at == datetime.fromisoformat(body["created_at"])


def test_a_failing_leaderboard_never_fails_the_scan(client, monkeypatch):
    from ecolife.leaderboards import service as leaderboards

    def broken(*args):
        raise RuntimeError("boards down")

    monkeypatch.setattr(leaderboards, "publish_credit", broken)
    resident = make_user()
    response = scan(client, resident, make_code(make_shop()))
    assert response.status_code == 201 and response.get_json()["balance"] == 5


def test_a_non_resident_is_refused_before_the_body_is_read(client):
    # The scan view checks only the token's role claim up front; the answer stays a 403.
    response = scan(client, make_user("shop_owner"), latitude="not a number")
    assert_error(response, 403, "forbidden")


def test_the_locked_row_decides_the_role_not_the_token(client):
    # A resident's token, for a user whose row is (now) a shop owner's: refused, nothing kept.
    user = make_user()
    code = make_code(make_shop())
    headers = auth(user, **{"Idempotency-Key": "k-role"})
    user.role = "shop_owner"
    db.session.commit()
    response = client.post("/api/v1/scans", json={"url": code_url(code)}, headers=headers)
    assert_error(response, 403, "forbidden")
    assert written() == (0, 0, 0)
    # About the caller, not the request's state: not kept, a retry is judged anew.
    assert db.session.scalars(select(IdempotencyKey)).all() == []


def test_a_token_of_a_user_who_is_gone_is_invalid(client):
    user = make_user()
    code = make_code(make_shop())
    headers = auth(user, **{"Idempotency-Key": "k-gone"})
    db.session.delete(user)
    db.session.commit()
    response = client.post("/api/v1/scans", json={"url": code_url(code)}, headers=headers)
    assert_error(response, 401, "invalid_token")
    assert written() == (0, 0, 0)
    assert db.session.scalar(select(IdempotencyKey.id)) is None


def test_the_balance_a_scan_answers_counts_no_points_past_their_date(client):
    # Points fallen due before the hourly expire-points job: the scan expires them first,
    # so its answer is what GET /me shows next and what a redemption could spend.
    resident, code = make_user(), make_code(make_shop())
    credit_at(resident, 50, datetime.now(UTC) - timedelta(days=40),
              expires_at=datetime.now(UTC) - timedelta(days=1))
    response = scan(client, resident, code)
    assert response.status_code == 201 and response.get_json()["balance"] == 5
    assert client.get("/api/v1/me", headers=auth(resident)).get_json()["balance"] == 5
    assert ledger(resident) == [("earn", 50, 50), ("expire", -50, 0), ("earn", 5, 5)]
