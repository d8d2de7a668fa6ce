"""Impact by unit: a resident's, a shop's and the whole programme's."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecolife.extensions import db
from ecolife.impact.models import ImpactTotal
from ecolife.scans.models import Scan
from ecolife.users.models import User
from tests.factories import assert_error, auth, make_code, make_shop, make_user, make_village
from tests.gamification.scanning import bkk, scan_at, scan_concurrently, unlimit_actions

START = bkk(2026, 3, 2, 9)


@pytest.fixture(autouse=True)
def _unlimited():
    unlimit_actions()


def scans_by_unit():
    """The truth the running totals must equal: every scan, summed by unit."""
    return dict(db.session.execute(
        select(Scan.impact_unit, func.sum(Scan.impact_amount)).group_by(Scan.impact_unit)
    ).all())


def test_my_impact_counts_my_scans_by_unit(client):
    assert_error(client.get("/api/v1/me/impact"), 401, "unauthorized")
    resident, other = make_user(), make_user()
    shop = make_shop()
    bag, foam = make_code(shop, "no_plastic_bag"), make_code(shop, "no_foam")
    for n in range(3):
        scan_at(resident, bag, START + timedelta(minutes=n))
    scan_at(resident, foam, START + timedelta(hours=1))
    scan_at(other, foam, START + timedelta(hours=1))
    response = client.get("/api/v1/me/impact", headers=auth(resident))
    assert response.status_code == 200
    assert response.get_json() == {"foam_box": 1, "plastic_bag": 3}
    assert client.get("/api/v1/me/impact", headers=auth(make_user())).get_json() == {}


def test_programme_impact_is_public_and_counts_everyone_with_or_without_a_village(client):
    assert client.get("/api/v1/impact").get_json() == {}
    village = make_village()
    villager, loner = make_user(community_id=village.id), make_user()
    shop = make_shop()
    bag, cup = make_code(shop, "no_plastic_bag"), make_code(shop, "own_cup")
    for n in range(4):
        scan_at(villager, bag, START + timedelta(minutes=n))
        scan_at(loner, bag if n % 2 else cup, START + timedelta(minutes=n))
    body = client.get("/api/v1/impact").get_json()
    assert body == {"plastic_bag": 6, "plastic_cup": 2} == scans_by_unit()
    # One running row per (village, unit), whoever scanned how often.
    rows = db.session.execute(select(ImpactTotal.community_id, ImpactTotal.impact_unit,
                                     ImpactTotal.amount).order_by(ImpactTotal.id)).all()
    assert sorted(rows, key=str) == sorted([(village.id, "plastic_bag", 4),
                                            (None, "plastic_cup", 2),
                                            (None, "plastic_bag", 2)], key=str)


def test_a_scan_counts_for_the_village_its_resident_belonged_to_then(client):
    first, second = make_village(), make_village()
    resident, code = make_user(community_id=first.id), make_code(make_shop())
    scan_at(resident, code, START)
    db.session.get(User, resident.id).community_id = second.id
    db.session.commit()
    scan_at(resident, code, START + timedelta(minutes=1))
    for village in (first, second):
        stats = client.get(f"/api/v1/communities/{village.id}/stats").get_json()
        assert stats["impact"] == {"plastic_bag": 1}
    assert client.get("/api/v1/impact").get_json() == {"plastic_bag": 2}


def test_shop_impact_follows_who_may_see_the_shop(client):
    owner = make_user("shop_owner")
    approved, pending = make_shop(owner), make_shop(owner, status="pending")
    resident = make_user()
    scan_at(resident, make_code(approved, "no_straw"), START)
    scan_at(resident, make_code(approved, "no_straw"), START + timedelta(minutes=1))
    assert client.get(f"/api/v1/shops/{approved.id}/impact").get_json() == {"straw": 2}
    for viewer in (None, resident):
        assert_error(client.get(f"/api/v1/shops/{pending.id}/impact", headers=auth(viewer)),
                     404, "unknown_shop")
    for viewer in (owner, make_user("operator")):
        response = client.get(f"/api/v1/shops/{pending.id}/impact", headers=auth(viewer))
        assert response.status_code == 200 and response.get_json() == {}
    assert_error(client.get("/api/v1/shops/99999/impact"), 404, "unknown_shop")


def test_concurrent_scans_in_one_village_lose_no_impact(app, client):
    village = make_village()
    villagers = [make_user(community_id=village.id) for _ in range(7)]
    loners = [make_user() for _ in range(7)]
    code = make_code(make_shop())
    jobs = [(user.id, code, START + timedelta(seconds=i))
            for i, user in enumerate(villagers + loners)]
    assert len(scan_concurrently(app, jobs)) == 14
    db.session.expire_all()
    assert client.get("/api/v1/impact").get_json() == {"plastic_bag": 14} == scans_by_unit()
    stats = client.get(f"/api/v1/communities/{village.id}/stats").get_json()
    assert stats["impact"] == {"plastic_bag": 7}
    assert db.session.scalar(select(func.count()).select_from(ImpactTotal)) == 2
