"""/actions: the earning rules; anyone reads them, operators create and change them."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from ecolife.actions.models import Action
from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.scans.models import Scan
from tests.factories import assert_error, auth, make_code, make_shop, make_user

DEFAULT_SLUGS = ["no_plastic_bag", "no_straw", "own_cup", "no_foam", "refill"]
NEW_RULE = {
    "slug": "own_bag", "name": "Brought my own bag", "name_th": "นำถุงผ้ามาเอง", "points": 3,
    "impact_unit": "plastic_bag", "impact_amount": 1, "cooldown_minutes": 30, "daily_limit": 4,
}


@pytest.fixture
def people():
    return {"anonymous": None, "resident": make_user(), "shop_owner": make_user("shop_owner"),
            "operator": make_user("operator")}


def action_count():
    return db.session.scalar(select(func.count()).select_from(Action))


def test_anyone_lists_the_seeded_defaults_with_every_field(client):
    response = client.get("/api/v1/actions")
    assert response.status_code == 200
    rules = response.get_json()
    assert [r["slug"] for r in rules] == DEFAULT_SLUGS
    bag = rules[0]
    assert bag == {
        "slug": "no_plastic_bag", "name": "No plastic bag", "name_th": "ไม่รับถุงพลาสติก",
        "points": 5, "impact_unit": "plastic_bag", "impact_amount": 1, "cooldown_minutes": 15,
        "daily_limit": 5, "active": True,
    }
    assert json.loads(response.headers["X-Pagination"])["total"] == 5


def test_list_pages_and_filters_on_active(client, people):
    client.patch("/api/v1/actions/refill", json={"active": False}, headers=auth(people["operator"]))
    page = client.get("/api/v1/actions?page=2&page_size=2")
    assert [r["slug"] for r in page.get_json()] == ["own_cup", "no_foam"]
    inactive = client.get("/api/v1/actions?active=false").get_json()
    assert [r["slug"] for r in inactive] == ["refill"] and inactive[0]["active"] is False
    assert len(client.get("/api/v1/actions?active=true").get_json()) == 4
    assert_error(client.get("/api/v1/actions?page_size=101"), 422, "validation_error")


def test_one_rule_by_slug(client):
    assert client.get("/api/v1/actions/own_cup").get_json()["name_th"] == "นำแก้วมาเอง"
    assert_error(client.get("/api/v1/actions/nothing_here"), 404, "unknown_action")


@pytest.mark.parametrize(
    "role, status", [("anonymous", 401), ("resident", 403), ("shop_owner", 403), ("operator", 201)]
)
def test_only_operators_create_rules(client, people, role, status):
    response = client.post("/api/v1/actions", json=NEW_RULE, headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    if status == 201:
        assert response.get_json() == {**NEW_RULE, "active": True}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "action.create"))
        assert entry.actor_id == people["operator"].id and entry.target_type == "actions"
        assert entry.details["name_th"] == "นำถุงผ้ามาเอง"
    else:
        assert action_count() == 5


def test_create_applies_defaults(client, people):
    body = {"slug": "no_cutlery", "name": "No plastic cutlery", "points": 1,
            "impact_unit": "cutlery"}
    created = client.post("/api/v1/actions", json=body, headers=auth(people["operator"])).get_json()
    assert created["impact_amount"] == 1 and created["cooldown_minutes"] == 0
    assert created["daily_limit"] is None and created["name_th"] is None
    assert created["active"] is True


def test_duplicate_slug_is_409_and_writes_nothing(client, people):
    body = {**NEW_RULE, "slug": "no_straw"}
    assert_error(client.post("/api/v1/actions", json=body, headers=auth(people["operator"])),
                 409, "action_exists")
    assert action_count() == 5
    assert db.session.scalar(select(Action).where(Action.slug == "no_straw")).points == 2


def test_a_slug_taken_after_the_check_is_still_action_exists(client, people, monkeypatch):
    # As when two operators create one slug at once: both checks find nothing.
    monkeypatch.setattr("ecolife.actions.service.find_action", lambda slug: None)
    body = {**NEW_RULE, "slug": "no_straw"}
    assert_error(client.post("/api/v1/actions", json=body, headers=auth(people["operator"])),
                 409, "action_exists")
    assert action_count() == 5
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"slug": "A_upper"}, "slug"),
        ({"slug": "1starts_with_digit"}, "slug"),
        ({"slug": "x"}, "slug"),
        ({"slug": "has-dash"}, "slug"),
        ({"slug": "a" * 41}, "slug"),
        ({"slug": "no_straw\n"}, "slug"),  # "$" alone would match before the newline
        ({"impact_unit": "straw\n"}, "impact_unit"),
        ({"points": 0}, "points"),
        ({"points": "5"}, "points"),
        ({"impact_amount": -1}, "impact_amount"),
        ({"cooldown_minutes": -5}, "cooldown_minutes"),
        ({"daily_limit": 0}, "daily_limit"),
        ({"name": "   "}, "name"),
        ({"impact_unit": "Plastic Bag"}, "impact_unit"),
        ({"created_at": "2024-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_invalid_rules_are_422_and_write_nothing(client, people, changes, field):
    response = client.post("/api/v1/actions", json={**NEW_RULE, **changes},
                           headers=auth(people["operator"]))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert action_count() == 5


@pytest.mark.parametrize(
    "role, status", [("anonymous", 401), ("resident", 403), ("shop_owner", 403), ("operator", 200)]
)
def test_only_operators_change_rules(client, people, role, status):
    response = client.patch("/api/v1/actions/no_straw", json={"points": 4},
                            headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    expected = 4 if status == 200 else 2
    assert db.session.scalar(select(Action.points).where(Action.slug == "no_straw")) == expected


def test_change_is_audited_with_before_and_after(client, people):
    response = client.patch(
        "/api/v1/actions/no_foam", json={"points": 8, "daily_limit": None, "name_th": "งดโฟม"},
        headers=auth(people["operator"]),
    )
    assert response.get_json()["points"] == 8 and response.get_json()["name_th"] == "งดโฟม"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "action.update"))
    assert entry.actor_id == people["operator"].id
    assert entry.details["before"] == {"points": 5, "daily_limit": 5, "name_th": "ไม่รับกล่องโฟม"}
    assert entry.details["after"] == {"points": 8, "daily_limit": None, "name_th": "งดโฟม"}
    assert entry.created_at is not None


@pytest.mark.parametrize(
    "changes", [{"slug": "renamed"}, {"id": 99}, {"points": -1}, {"active": "maybe"}]
)
def test_slug_is_immutable_and_bad_changes_are_422(client, people, changes):
    response = client.patch("/api/v1/actions/own_cup", json=changes,
                            headers=auth(people["operator"]))
    assert_error(response, 422, "validation_error")
    assert client.get("/api/v1/actions/own_cup").get_json()["points"] == 5
    assert_error(client.get("/api/v1/actions/renamed"), 404, "unknown_action")


def test_patch_unknown_rule_is_404(client, people):
    response = client.patch("/api/v1/actions/nope", json={"points": 1},
                            headers=auth(people["operator"]))
    assert_error(response, 404, "unknown_action")


@pytest.mark.parametrize("slug", ["no%00straw", "no%ED%A0%80straw"])
def test_a_slug_no_column_could_hold_is_unknown_on_every_backend(client, people, slug):
    # PostgreSQL refused the NUL as a DataError: a 422 without errors instead of a 404.
    assert_error(client.get(f"/api/v1/actions/{slug}"), 404, "unknown_action")
    response = client.patch(f"/api/v1/actions/{slug}", json={"points": 1},
                            headers=auth(people["operator"]))
    assert_error(response, 404, "unknown_action")


def test_a_change_never_rewrites_credited_scans(client, people):
    """Scans copy points and impact when made; editing the rule leaves them as they were."""
    code = make_code(make_shop(), "no_plastic_bag")
    scan = Scan(user_id=people["resident"].id, code_id=code.id, shop_id=code.shop_id,
                action_id=code.action_id, points=5, impact_unit="plastic_bag", impact_amount=1,
                local_day=date(2025, 1, 1))
    db.session.add(scan)
    db.session.commit()
    client.patch("/api/v1/actions/no_plastic_bag",
                 json={"points": 50, "impact_unit": "bag", "impact_amount": 2},
                 headers=auth(people["operator"]))
    db.session.expire_all()
    row = db.session.get(Scan, scan.id)
    assert (row.points, row.impact_unit, row.impact_amount) == (5, "plastic_bag", 1)


def test_a_change_to_the_same_values_logs_nothing(client, people):
    response = client.patch("/api/v1/actions/no_straw", json={"points": 2, "active": True},
                            headers=auth(people["operator"]))
    assert response.status_code == 200 and response.get_json()["points"] == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
