"""The catalogue: who sees which rewards, and how operators create, change and archive them."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.rewards.models import Reward
from ecolife.timeutil import utcnow
from tests.factories import assert_error, auth, make_shop, make_user
from tests.rewards.helpers import API, give_points, make_reward, redeem, stock_left

DAY = timedelta(days=1)


def names(response):
    assert response.status_code == 200, response.get_json()
    return [reward["name"] for reward in response.get_json()]


def audit_actions(reward_id):
    return db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.target_type == "rewards", AuditEntry.target_id == str(reward_id))
        .order_by(AuditEntry.id)
    ).all()


@pytest.fixture
def catalogue():
    """One reward of each kind: on sale, archived, future, past, at approved/suspended shops."""
    now = utcnow()
    make_reward(name="on sale", cost_points=50)
    make_reward(name="cheap", cost_points=10, stock=None)
    make_reward(name="archived", archived_at=now)
    make_reward(name="future", starts_at=now + DAY)
    make_reward(name="past", ends_at=now - DAY)
    make_reward(name="in window", starts_at=now - DAY, ends_at=now + DAY, cost_points=40)
    make_reward(name="approved shop", shop_id=make_shop().id, cost_points=60)
    make_reward(name="suspended shop", shop_id=make_shop(status="suspended").id)
    make_reward(name="sold out", stock=3, stock_left=0, cost_points=70)


ON_SALE = ["cheap", "in window", "on sale", "approved shop", "sold out"]


@pytest.mark.parametrize("role", [None, "resident", "shop_owner", "operator"])
def test_anyone_lists_what_is_on_sale_now_cheapest_first(client, catalogue, role):
    user = make_user(role) if role else None
    response = client.get(f"{API}/rewards", headers=auth(user))
    assert names(response) == ON_SALE
    by_name = {r["name"]: r for r in response.get_json()}
    assert by_name["sold out"]["stock_left"] == 0 and by_name["sold out"]["stock"] == 3
    assert by_name["cheap"]["stock"] is None and by_name["cheap"]["stock_left"] is None
    assert json.loads(response.headers["X-Pagination"])["total"] == len(ON_SALE)


def test_the_list_is_paged(client, catalogue):
    response = client.get(f"{API}/rewards?page=2&page_size=2")
    assert names(response) == ON_SALE[2:4]
    assert_error(client.get(f"{API}/rewards?page_size=101"), 422, "validation_error")


def test_operators_may_list_everything(client, catalogue):
    operator = make_user("operator")
    listed = names(client.get(f"{API}/rewards?include=all&page_size=100", headers=auth(operator)))
    assert sorted(listed) == sorted(db.session.scalars(select(Reward.name)).all())
    for role in (None, "resident", "shop_owner"):
        user = make_user(role) if role else None
        response = client.get(f"{API}/rewards?include=all", headers=auth(user))
        assert_error(response, 403, "forbidden")
    assert_error(client.get(f"{API}/rewards?include=some"), 422, "validation_error")


@pytest.mark.parametrize("name", ["archived", "future", "past", "suspended shop"])
def test_an_inactive_reward_is_unknown_but_to_operators(client, catalogue, name):
    reward_id = db.session.scalar(select(Reward.id).where(Reward.name == name))
    url = f"{API}/rewards/{reward_id}"
    assert_error(client.get(url), 404, "unknown_reward")
    assert_error(client.get(url, headers=auth(make_user())), 404, "unknown_reward")
    response = client.get(url, headers=auth(make_user("operator")))
    assert response.status_code == 200 and response.get_json()["name"] == name


def test_one_reward_on_sale(client):
    reward = make_reward(name="แก้วน้ำรักษ์โลก (Eco tumbler)", description="ใช้ซ้ำได้ Reusable")
    body = client.get(f"{API}/rewards/{reward.id}").get_json()
    assert body["name"] == "แก้วน้ำรักษ์โลก (Eco tumbler)"
    assert body["description"] == "ใช้ซ้ำได้ Reusable"
    assert (body["stock"], body["stock_left"], body["cost_points"]) == (10, 10, 30)
    assert_error(client.get(f"{API}/rewards/999"), 404, "unknown_reward")


def test_an_operator_creates_a_reward_in_thai_and_it_is_audited(client):
    operator, shop = make_user("operator"), make_shop()
    body = {
        "name": "ส่วนลด 10 บาท (10 baht off)",
        "description": "ลด 10 บาทเมื่อนำแก้วมาเอง",
        "cost_points": 30,
        "stock": 100,
        "per_user_limit": 2,
        "starts_at": "2026-01-01T00:00:00+07:00",
        "ends_at": "2036-01-01T00:00:00+07:00",
        "shop_id": shop.id,
    }
    response = client.post(f"{API}/rewards", json=body, headers=auth(operator))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["name"] == body["name"] and created["description"] == body["description"]
    assert (created["stock"], created["stock_left"]) == (100, 100)
    assert created["voucher_valid_days"] == 30
    assert created["starts_at"] == "2025-12-31T17:00:00+00:00"
    assert created["shop_id"] == shop.id and created["archived_at"] is None
    assert audit_actions(created["id"]) == ["reward.create"]
    assert names(client.get(f"{API}/rewards")) == [body["name"]]


def test_unlimited_stock_is_null(client):
    body = {"name": "x", "cost_points": 5, "stock": None, "voucher_valid_days": 7}
    created = client.post(f"{API}/rewards", json=body, headers=auth(make_user("operator")))
    assert created.status_code == 201
    assert created.get_json()["stock_left"] is None
    assert created.get_json()["voucher_valid_days"] == 7


@pytest.mark.parametrize("role, status", [(None, 401), ("resident", 403), ("shop_owner", 403)])
def test_only_operators_change_the_catalogue(client, role, status):
    user = make_user(role) if role else None
    reward = make_reward()
    error = "unauthorized" if status == 401 else "forbidden"
    body = {"name": "x", "cost_points": 5, "stock": 1}
    assert_error(client.post(f"{API}/rewards", json=body, headers=auth(user)), status, error)
    url = f"{API}/rewards/{reward.id}"
    assert_error(client.patch(url, json={"cost_points": 1}, headers=auth(user)), status, error)
    assert_error(client.delete(url, headers=auth(user)), status, error)
    db.session.refresh(reward)
    assert (reward.cost_points, reward.archived_at) == (30, None)
    assert db.session.scalar(select(func.count()).select_from(Reward)) == 1


VALID = {"name": "ถุงผ้า", "cost_points": 30, "stock": 5}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"cost_points": 0}, "cost_points"),
        ({"cost_points": "30"}, "cost_points"),
        ({"stock": -1}, "stock"),
        ({"stock": "missing"}, "stock"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"per_user_limit": 0}, "per_user_limit"),
        ({"voucher_valid_days": 0}, "voucher_valid_days"),
        ({"voucher_valid_days": 366}, "voucher_valid_days"),
        ({"starts_at": "2030-01-02T00:00:00+07:00", "ends_at": "2030-01-01T00:00:00+07:00"},
         "ends_at"),
        ({"starts_at": "2030-01-01T00:00:00+07:00", "ends_at": "2030-01-01T00:00:00+07:00"},
         "ends_at"),
        ({"starts_at": "2030-01-01T00:00:00"}, "starts_at"),  # no offset
        ({"stock_left": 3}, "stock_left"),
        ({"archived_at": None}, "archived_at"),
        ({"shop_id": 999}, "shop_id"),
        ({"shop_id": "pending"}, "shop_id"),
    ],
)
def test_invalid_rewards_are_422_and_write_nothing(client, changes, field):
    body = {**VALID, **changes}
    if body["stock"] == "missing":
        del body["stock"]
    if body.get("shop_id") == "pending":
        body["shop_id"] = make_shop(status="pending").id
    response = client.post(f"{API}/rewards", json=body, headers=auth(make_user("operator")))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert db.session.scalar(select(func.count()).select_from(Reward)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_an_operator_changes_a_reward(client):
    operator, reward = make_user("operator"), make_reward(stock=None)
    shop = make_shop()
    changes = {"name": "ถุงผ้าใหม่ (New bag)", "cost_points": 45, "shop_id": shop.id,
               "ends_at": "2040-01-01T00:00:00+00:00", "voucher_valid_days": 90}
    response = client.patch(f"{API}/rewards/{reward.id}", json=changes, headers=auth(operator))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {key: body[key] for key in changes} == changes
    assert audit_actions(reward.id) == ["reward.update"]
    cleared = client.patch(f"{API}/rewards/{reward.id}", json={"shop_id": None, "ends_at": None},
                           headers=auth(operator))
    assert (cleared.get_json()["shop_id"], cleared.get_json()["ends_at"]) == (None, None)
    assert_error(client.patch(f"{API}/rewards/999", json={}, headers=auth(operator)), 404,
                 "unknown_reward")


def test_a_window_change_is_checked_against_the_stored_side(client):
    operator = make_user("operator")
    reward = make_reward(starts_at=utcnow() + DAY)
    before = utcnow().isoformat()
    response = client.patch(f"{API}/rewards/{reward.id}", json={"ends_at": before},
                            headers=auth(operator))
    assert "ends_at" in assert_error(response, 422, "validation_error")["errors"]
    db.session.refresh(reward)
    assert reward.ends_at is None and audit_actions(reward.id) == []


def test_new_stock_keeps_the_vouchers_already_handed_out(client):
    operator, reward = make_user("operator"), make_reward(stock=5)
    residents = [make_user() for _ in range(3)]
    for resident in residents:
        give_points(resident, 30)
        assert redeem(client, resident, reward.id).status_code == 201
    assert stock_left(reward.id) == 2

    def patch(stock):
        return client.patch(f"{API}/rewards/{reward.id}", json={"stock": stock},
                            headers=auth(operator))

    assert patch(8).get_json()["stock_left"] == 5
    assert patch(3).get_json()["stock_left"] == 0
    response = patch(2)
    assert "stock" in assert_error(response, 422, "validation_error")["errors"]
    assert stock_left(reward.id) == 0
    assert patch(None).get_json()["stock_left"] is None  # unlimited
    assert patch(4).get_json()["stock_left"] == 1  # counted from the vouchers held
    assert audit_actions(reward.id) == ["reward.update"] * 4


def test_archiving_refuses_a_body_with_fields(client):
    operator, reward = make_user("operator"), make_reward()
    response = client.delete(f"{API}/rewards/{reward.id}", json={"hard_delete": True},
                             headers=auth(operator))
    assert_error(response, 422, "validation_error")
    assert client.get(f"{API}/rewards/{reward.id}").status_code == 200


def test_archiving_stops_redemptions_but_not_issued_vouchers(client):
    operator, resident, reward = make_user("operator"), make_user(), make_reward()
    give_points(resident, 100)
    voucher = redeem(client, resident, reward.id).get_json()
    response = client.delete(f"{API}/rewards/{reward.id}", headers=auth(operator))
    assert response.status_code == 204 and response.data == b""
    assert client.delete(f"{API}/rewards/{reward.id}", headers=auth(operator)).status_code == 204
    assert audit_actions(reward.id) == ["reward.archive"]
    details = db.session.scalar(select(AuditEntry.details).where(
        AuditEntry.target_type == "rewards", AuditEntry.target_id == str(reward.id)))
    assert details["before"] == {"archived_at": None} and details["after"]["archived_at"]
    assert (details["name"], details["stock_left"]) == (reward.name, reward.stock_left)
    assert_error(client.get(f"{API}/rewards/{reward.id}"), 404, "unknown_reward")
    assert names(client.get(f"{API}/rewards")) == []
    assert_error(redeem(client, resident, reward.id), 404, "unknown_reward")
    shown = client.get(f"{API}/redemptions/{voucher['id']}", headers=auth(resident))
    assert shown.get_json()["status"] == "issued"
    operator_view = client.get(f"{API}/rewards/{reward.id}", headers=auth(operator)).get_json()
    assert operator_view["archived_at"] is not None
    assert_error(client.delete(f"{API}/rewards/999", headers=auth(operator)), 404,
                 "unknown_reward")
