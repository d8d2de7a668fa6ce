"""Changing a shop: details by its owner or an operator, status by operators only (audited)."""
import pytest
from sqlalchemy import func, select

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.shops.models import Shop
from tests.factories import assert_error, auth, make_shop

THAI_NAME = "ร้านกาแฟป่าซาง สาขา ๒ — “ของดีลำพูน”"


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 401), ("resident", 403), ("owner", 200), ("other_owner", 404),
     ("operator", 200)],
)
def test_owner_or_operator_changes_details(client, people, shops, role, status):
    shop = shops["approved"]
    response = client.patch(f"/api/v1/shops/{shop.id}", json={"name": THAI_NAME},
                            headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    db.session.expire_all()
    if status == 200:
        assert response.get_json()["name"] == THAI_NAME
        assert response.get_json()["status"] == "approved"
        assert client.get(f"/api/v1/shops/{shop.id}").get_json()["name"] == THAI_NAME
    else:
        assert db.session.get(Shop, shop.id).name != THAI_NAME
    if role == "other_owner":
        assert response.get_json()["error"] == "unknown_shop"


def test_owner_edits_a_pending_shop_and_the_change_is_logged(client, people, shops):
    shop = shops["pending"]
    response = client.patch(
        f"/api/v1/shops/{shop.id}",
        json={"latitude": 18.6, "longitude": 99.03, "geofence_m": 200, "address": None},
        headers=auth(people["owner"]),
    )
    assert response.status_code == 200 and response.get_json()["geofence_m"] == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "shop.update"))
    assert entry.actor_id == people["owner"].id and entry.target_id == str(shop.id)
    assert entry.details["after"]["geofence_m"] == 200


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"status": "approved"}, "status"),
        ({"owner_id": 1}, "owner_id"),
        ({"name": ""}, "name"),
        ({"latitude": None}, "latitude"),
        ({"geofence_m": 100, "latitude": None, "longitude": None}, "geofence_m"),
    ],
)
def test_bad_changes_are_422_and_write_nothing(client, people, changes, field):
    shop = make_shop(people["owner"], latitude=18.5, longitude=99.0, geofence_m=None, name="เดิม")
    response = client.patch(f"/api/v1/shops/{shop.id}", json=changes, headers=auth(people["owner"]))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    db.session.expire_all()
    row = db.session.get(Shop, shop.id)
    assert (row.name, row.latitude, row.longitude, row.status) == ("เดิม", 18.5, 99.0, "approved")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_geofenced_shop_cannot_lose_its_location(client, people):
    shop = make_shop(people["owner"], latitude=18.5, longitude=99.0, geofence_m=100)
    response = client.patch(f"/api/v1/shops/{shop.id}", json={"latitude": None, "longitude": None},
                            headers=auth(people["owner"]))
    assert "geofence_m" in assert_error(response, 422, "validation_error")["errors"]


# Operator decisions


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 401), ("resident", 403), ("owner", 403), ("other_owner", 403),
     ("operator", 200)],
)
@pytest.mark.parametrize("decision", ["approve", "suspend"])
def test_only_operators_approve_and_suspend(client, people, shops, role, status, decision):
    shop = shops["pending"]
    response = client.post(f"/api/v1/shops/{shop.id}/{decision}", headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    db.session.expire_all()
    expected = {"approve": "approved", "suspend": "suspended"}[decision]
    assert db.session.get(Shop, shop.id).status == (expected if status == 200 else "pending")
    if status == 200:
        assert response.get_json()["status"] == expected


def test_decisions_are_audited_who_what_when(client, people, shops):
    shop, operator = shops["pending"], people["operator"]
    client.post(f"/api/v1/shops/{shop.id}/approve", headers=auth(operator))
    client.post(f"/api/v1/shops/{shop.id}/suspend", json={"reason": "ขายถุงพลาสติกต่อ"},
                headers=auth(operator))
    client.post(f"/api/v1/shops/{shop.id}/suspend", headers=auth(operator))  # no change, no entry
    client.post(f"/api/v1/shops/{shop.id}/approve", headers=auth(operator))
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["shop.approve", "shop.suspend", "shop.approve"]
    assert all(e.actor_id == operator.id and e.target_type == "shops"
               and e.target_id == str(shop.id) and e.created_at is not None for e in entries)
    assert entries[1].details == {"from": "approved", "to": "suspended",
                                  "reason": "ขายถุงพลาสติกต่อ"}
    assert entries[2].details["from"] == "suspended"


def test_decision_on_unknown_shop_and_bad_body(client, people):
    operator = auth(people["operator"])
    assert_error(client.post("/api/v1/shops/999/approve", headers=operator), 404, "unknown_shop")
    shop = make_shop(status="pending")
    response = client.post(f"/api/v1/shops/{shop.id}/approve", json={"status": "x"},
                           headers=operator)
    assert_error(response, 422, "validation_error")
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).status == "pending"


def test_a_change_to_the_same_values_writes_and_logs_nothing(client, people):
    shop = make_shop(people["owner"], name="ร้านเดิม", category="cafe")
    before = row_of(shop)
    for body in ({}, {"name": "ร้านเดิม", "category": "cafe"}):
        response = client.patch(f"/api/v1/shops/{shop.id}", json=body,
                                headers=auth(people["owner"]))
        assert response.status_code == 200 and response.get_json()["name"] == "ร้านเดิม"
    assert row_of(shop) == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def row_of(shop):
    """Every column of the shop's row as stored."""
    return db.session.execute(select(Shop.__table__).where(Shop.id == shop.id)).one()._asdict()
