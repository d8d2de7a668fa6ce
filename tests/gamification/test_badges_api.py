"""/badges and /me/badges: the catalogue, operators' changes, and what a resident earned."""
import pytest
from sqlalchemy import func, select

from ecolife.audit.models import AuditEntry
from ecolife.badges.models import Badge
from ecolife.defaults import DEFAULT_BADGES
from ecolife.extensions import db
from tests.factories import assert_error, auth, make_code, make_shop, make_user
from tests.gamification.scanning import bkk, scan_at, unlimit_actions

NEW = {"slug": "cups_5", "name": "แก้วส่วนตัว Own cup", "description": "5 cups brought.",
       "criteria": {"type": "impact", "unit": "plastic_cup", "threshold": 5}}


def badge_count():
    return db.session.scalar(select(func.count()).select_from(Badge))


def test_the_catalogue_is_public_and_holds_the_defaults(client):
    response = client.get("/api/v1/badges")
    assert response.status_code == 200 and "X-Pagination" in response.headers
    body = response.get_json()
    assert [b["slug"] for b in body] == [row[0] for row in DEFAULT_BADGES]
    assert body[6] == {"slug": "bags_50", "name": "Bag refuser",
                       "description": "50 plastic bags avoided.", "active": True,
                       "criteria": {"type": "impact", "unit": "plastic_bag", "threshold": 50}}
    assert client.get("/api/v1/badges/streak_7").get_json()["criteria"] == {
        "type": "streak_days", "threshold": 7}
    assert_error(client.get("/api/v1/badges/nope"), 404, "unknown_badge")


def test_switched_off_badges_are_seen_by_operators_only(client):
    operator = make_user("operator")
    assert client.patch("/api/v1/badges/scans_100", json={"active": False},
                        headers=auth(operator)).status_code == 200
    for viewer in (None, make_user()):
        slugs = [b["slug"] for b in client.get("/api/v1/badges", headers=auth(viewer)).get_json()]
        assert "scans_100" not in slugs
        assert_error(client.get("/api/v1/badges/scans_100", headers=auth(viewer)), 404,
                     "unknown_badge")
    slugs = [b["slug"] for b in client.get("/api/v1/badges", headers=auth(operator)).get_json()]
    assert "scans_100" in slugs


@pytest.mark.parametrize("role, status", [
    (None, 401), ("resident", 403), ("shop_owner", 403), ("operator", 201)])
def test_only_operators_add_badges(client, role, status):
    user = make_user(role) if role else None
    response = client.post("/api/v1/badges", json=NEW, headers=auth(user))
    assert response.status_code == status, response.get_json()
    if status == 201:
        assert response.get_json() == {**NEW, "active": True}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge.create"))
        assert entry.actor_id == user.id and entry.target_type == "badges"
    else:
        assert badge_count() == len(DEFAULT_BADGES)


@pytest.mark.parametrize("change, field", [
    ({"criteria": {"type": "likes", "threshold": 5}}, "criteria"),
    ({"criteria": {"type": "scan_count"}}, "criteria"),
    ({"criteria": {"type": "scan_count", "threshold": 0}}, "criteria"),
    ({"criteria": {"type": "scan_count", "threshold": True}}, "criteria"),
    ({"criteria": {"type": "scan_count", "threshold": 2.5}}, "criteria"),
    ({"criteria": {"type": "scan_count", "threshold": 5, "unit": "straw"}}, "criteria"),
    ({"criteria": {"type": "impact", "threshold": 5}}, "criteria"),
    ({"criteria": {"type": "impact", "unit": "Plastic Bag!", "threshold": 5}}, "criteria"),
    ({"criteria": ["scan_count", 5]}, "criteria"),
    ({"slug": "Cups 5"}, "slug"),
    ({"slug": "cups\n"}, "slug"),  # "$" alone would match before the newline
    ({"criteria": {"type": "impact", "unit": "straw\n", "threshold": 5}}, "criteria"),
    # No action can have a one-letter unit, so such a badge could never be earned.
    ({"criteria": {"type": "impact", "unit": "k", "threshold": 5}}, "criteria"),
    ({"name": "   "}, "name"),
    ({"points": 10}, "points"),
    ({"active": 1}, "active"),
])
def test_badge_refusals_are_422_and_write_nothing(client, change, field):
    operator = make_user("operator")
    response = client.post("/api/v1/badges", json={**NEW, **change}, headers=auth(operator))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert badge_count() == len(DEFAULT_BADGES)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_slug_taken_after_the_check_is_still_badge_exists(client, monkeypatch):
    # As when two operators create one slug at once: both checks find nothing.
    operator = make_user("operator")
    assert client.post("/api/v1/badges", json=NEW, headers=auth(operator)).status_code == 201
    monkeypatch.setattr("ecolife.badges.service._slug_taken", lambda slug: False)
    assert_error(client.post("/api/v1/badges", json=NEW, headers=auth(operator)), 409,
                 "badge_exists")
    assert badge_count() == len(DEFAULT_BADGES) + 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_a_slug_no_column_could_hold_is_unknown_on_every_backend(client):
    # PostgreSQL refused the NUL as a DataError: a 422 without errors instead of a 404.
    operator = make_user("operator")
    assert_error(client.get("/api/v1/badges/x%00"), 404, "unknown_badge")
    response = client.patch("/api/v1/badges/x%00", json={"name": "y"}, headers=auth(operator))
    assert_error(response, 404, "unknown_badge")


def test_a_taken_slug_is_409(client):
    operator = make_user("operator")
    body = {**NEW, "slug": "first_scan"}
    assert_error(client.post("/api/v1/badges", json=body, headers=auth(operator)), 409,
                 "badge_exists")
    assert badge_count() == len(DEFAULT_BADGES)


def test_operators_change_a_badge_and_it_is_audited(client):
    operator = make_user("operator")
    change = {"name": "นักสำรวจ Explorer", "criteria": {"type": "distinct_shops", "threshold": 3}}
    response = client.patch("/api/v1/badges/shops_5", json=change, headers=auth(operator))
    assert response.status_code == 200
    assert response.get_json()["criteria"] == change["criteria"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge.update"))
    assert entry.details["after"] == change and entry.actor_id == operator.id
    assert entry.details["before"]["name"] == "Explorer"
    for bad, status, error in (
        ({"slug": "x"}, 422, "validation_error"),
        ({"criteria": {"type": "streak_days", "threshold": -1}}, 422, "validation_error"),
    ):
        assert_error(client.patch("/api/v1/badges/shops_5", json=bad, headers=auth(operator)),
                     status, error)
    assert_error(client.patch("/api/v1/badges/nope", json={"name": "x"}, headers=auth(operator)),
                 404, "unknown_badge")
    assert_error(client.patch("/api/v1/badges/shops_5", json={"name": "x"},
                              headers=auth(make_user())), 403, "forbidden")
    assert db.session.scalar(select(Badge.name).where(Badge.slug == "shops_5")) == change["name"]


def test_my_badges_newest_first(client):
    assert_error(client.get("/api/v1/me/badges"), 401, "unauthorized")
    unlimit_actions()
    resident, code = make_user(), make_code(make_shop())
    for minute in range(10):
        scan_at(resident, code, bkk(2026, 3, 2, 9, minute))
    response = client.get("/api/v1/me/badges", headers=auth(resident))
    assert response.status_code == 200
    assert response.get_json() == [
        {"slug": "scans_10", "name": "Regular", "awarded_at": "2026-03-02T02:09:00+00:00"},
        {"slug": "first_scan", "name": "First step", "awarded_at": "2026-03-02T02:00:00+00:00"},
    ]
    assert client.get("/api/v1/me/badges", headers=auth(make_user())).get_json() == []


def test_the_catalogue_cache_is_forgotten_when_a_change_commits_not_before(app):
    """A scan reloading between flush and commit must not keep the old catalogue."""
    from ecolife.badges import service as badges
    from ecolife.badges.models import Badge

    slugs = lambda: {b.slug for b in badges._active_catalogue().badges}  # noqa: E731
    assert "first_scan" in slugs()
    badge = db.session.scalar(select(Badge).where(Badge.slug == "first_scan"))
    badge.active = False
    db.session.flush()
    assert "first_scan" in slugs()  # reloaded before the commit: still the committed rows
    db.session.commit()
    assert "first_scan" not in slugs()
