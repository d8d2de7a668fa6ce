"""/shops: owners register shops; everyone finds approved ones, nearest first."""
import json

import pytest
from sqlalchemy import func, select

from ecolife.extensions import db
from ecolife.shops.models import Shop
from ecolife.shops.service import distance_m
from tests.factories import assert_error, auth, make_shop, make_village

THAI_NAME = "ร้านกาแฟป่าซาง สาขา ๒ — “ของดีลำพูน”"
LAMPHUN = (18.5745, 99.0087)


def shop_count():
    return db.session.scalar(select(func.count()).select_from(Shop))


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [shop["id"] for shop in response.get_json()]


# Registering


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 401), ("resident", 403), ("owner", 201), ("operator", 403)],
)
def test_shop_owners_register_shops_that_start_pending(client, people, role, status):
    body = {"name": THAI_NAME, "address": "๑๒ หมู่ 9 ต.อุโมงค์ อ.เมืองลำพูน จ.ลำพูน",
            "latitude": 18.6160, "longitude": 99.0330, "geofence_m": 150, "category": "cafe"}
    response = client.post("/api/v1/shops", json=body, headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    if status != 201:
        assert shop_count() == 0
        return
    shop = response.get_json()
    assert shop["status"] == "pending" and shop["owner_id"] == people["owner"].id
    assert {k: shop[k] for k in body} == body
    assert "distance_m" not in shop
    again = client.get(f"/api/v1/shops/{shop['id']}", headers=auth(people["owner"]))
    assert again.get_json() == shop


def test_register_with_only_a_name_and_a_community(client, people):
    village = make_village()
    response = client.post("/api/v1/shops", json={"name": "ร้านป้าแดง", "community_id": village.id},
                           headers=auth(people["owner"]))
    shop = response.get_json()
    assert response.status_code == 201 and shop["community_id"] == village.id
    assert shop["latitude"] is None and shop["geofence_m"] is None and shop["category"] is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "a", "latitude": 18.5}, "longitude"),
        ({"name": "a", "longitude": 99.0}, "latitude"),
        ({"name": "a", "latitude": 91, "longitude": 99.0}, "latitude"),
        ({"name": "a", "latitude": 18.5, "longitude": 181}, "longitude"),
        ({"name": "a", "latitude": "NaN", "longitude": 99.0}, "latitude"),
        ({"name": "a", "geofence_m": 100}, "geofence_m"),
        ({"name": "a", "latitude": 18.5, "longitude": 99.0, "geofence_m": 0}, "geofence_m"),
        ({"name": "a", "category": "Coffee Shop"}, "category"),
        ({"name": "a", "community_id": 999}, "community_id"),
        ({"name": "a", "status": "approved"}, "status"),
        ({"name": "a", "owner_id": 1}, "owner_id"),
    ],
)
def test_invalid_registrations_are_422_and_write_nothing(client, people, body, field):
    response = client.post("/api/v1/shops", json=body, headers=auth(people["owner"]))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert shop_count() == 0


# Who sees what


@pytest.mark.parametrize(
    "role, visible",
    [
        ("anonymous", {"approved", "others_approved"}),
        ("resident", {"approved", "others_approved"}),
        ("owner", {"approved", "pending", "suspended", "others_approved"}),
        ("other_owner", {"approved", "others_approved", "others_pending"}),
        ("operator", {"approved", "pending", "suspended", "others_approved", "others_pending"}),
    ],
)
def test_list_shows_approved_plus_own_or_everything_to_operators(client, people, shops, role,
                                                                  visible):
    listed = ids(client.get("/api/v1/shops", headers=auth(people[role])))
    assert listed == sorted(shops[name].id for name in visible)


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 404), ("resident", 404), ("owner", 200), ("other_owner", 404),
     ("operator", 200)],
)
@pytest.mark.parametrize("state", ["pending", "suspended"])
def test_unapproved_shop_is_404_but_to_its_owner_and_operators(client, people, shops, role, status,
                                                               state):
    response = client.get(f"/api/v1/shops/{shops[state].id}", headers=auth(people[role]))
    if status == 404:
        assert_error(response, 404, "unknown_shop")
    else:
        assert response.status_code == 200 and response.get_json()["status"] == state


def test_approved_shop_is_public_and_unknown_is_404(client, shops):
    assert client.get(f"/api/v1/shops/{shops['approved'].id}").status_code == 200
    assert_error(client.get("/api/v1/shops/99999"), 404, "unknown_shop")


def test_mine_and_status_narrow_the_list(client, people, shops):
    owner = auth(people["owner"])
    assert ids(client.get("/api/v1/shops?mine=true", headers=owner)) == sorted(
        shops[n].id for n in ("approved", "pending", "suspended"))
    assert ids(client.get("/api/v1/shops?status=pending", headers=owner)) == [shops["pending"].id]
    assert ids(client.get("/api/v1/shops?status=pending")) == []
    assert_error(client.get("/api/v1/shops?mine=true"), 401, "unauthorized")
    assert_error(client.get("/api/v1/shops?status=closed"), 422, "validation_error")


def test_bad_token_on_a_public_list_is_401_not_anonymous(client):
    response = client.get("/api/v1/shops", headers={"Authorization": "Bearer nonsense"})
    assert_error(response, 401, "invalid_token")


def test_category_filter(client):
    cafe, _market = make_shop(category="cafe"), make_shop(category="market")
    make_shop(category="cafe", status="pending")
    assert ids(client.get("/api/v1/shops?category=cafe")) == [cafe.id]
    assert_error(client.get("/api/v1/shops?category=Not A Slug"), 422, "validation_error")


def test_pagination(client):
    made = [make_shop().id for _ in range(5)]
    response = client.get("/api/v1/shops?page=2&page_size=2")
    assert ids(response) == made[2:4]
    assert json.loads(response.headers["X-Pagination"])["total"] == 5
    assert_error(client.get("/api/v1/shops?page_size=101"), 422, "validation_error")


# Distance


@pytest.fixture
def spread():
    """Shops at known offsets from central Lamphun, created out of distance order."""
    lat, lng = LAMPHUN
    return {
        "far": make_shop(latitude=lat + 0.5, longitude=lng),  # ~55.6 km north
        "no_location": make_shop(),
        "near": make_shop(latitude=lat + 0.001, longitude=lng),  # ~111 m
        "mid_east": make_shop(latitude=lat, longitude=lng + 0.05),  # ~5.3 km
        "mid_north": make_shop(latitude=lat + 0.04, longitude=lng),  # ~4.4 km
        "pending_near": make_shop(latitude=lat, longitude=lng, status="pending"),
    }


@pytest.mark.parametrize("params", ["near=18.5745,99.0087", "lat=18.5745&lng=99.0087"])
def test_near_sorts_by_distance_with_located_shops_first(client, spread, params):
    response = client.get(f"/api/v1/shops?{params}")
    order = ["near", "mid_north", "mid_east", "far", "no_location"]
    assert ids(response) == [spread[name].id for name in order]
    distances = [shop["distance_m"] for shop in response.get_json()]
    assert distances[-1] is None
    assert distances[:-1] == sorted(distances[:-1])
    assert abs(distances[0] - 111) <= 1
    assert abs(distances[3] - 55_597) <= 50


def test_distance_order_holds_across_pages(client, spread):
    first = client.get("/api/v1/shops?near=18.5745,99.0087&page_size=2")
    second = client.get("/api/v1/shops?near=18.5745,99.0087&page_size=2&page=2")
    assert ids(first) + ids(second) == [spread[n].id for n in ("near", "mid_north", "mid_east",
                                                               "far")]


def test_haversine_matches_known_distances():
    assert round(distance_m((0, 0), (1, 0))) == 111_195
    chiang_mai, lamphun = (18.7883, 98.9853), LAMPHUN
    assert 23_000 < distance_m(chiang_mai, lamphun) < 25_000
    assert distance_m(lamphun, lamphun) == 0


@pytest.mark.parametrize(
    "params",
    ["near=abc", "near=18.5", "near=18.5,99,1", "near=91,99", "near=18,200", "near=nan,99",
     "near=18.5,99&lat=18.5&lng=99", "lat=18.5", "lng=99", "lat=95&lng=99"],
)
def test_bad_points_are_422(client, params):
    assert_error(client.get(f"/api/v1/shops?{params}"), 422, "validation_error")
