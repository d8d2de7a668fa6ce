"""Badges awarded by scans: in the scan's transaction, in its new_badges, never twice."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecolife.badges.models import Badge, UserBadge
from ecolife.extensions import db
from ecolife.scans.models import Scan
from tests.factories import make_code, make_shop, make_user
from tests.gamification.scanning import bkk, scan_at, scan_concurrently, unlimit_actions

START = bkk(2026, 3, 2, 9)


@pytest.fixture(autouse=True)
def _unlimited():
    unlimit_actions()


def slugs(result):
    return [badge["slug"] for badge in result["new_badges"]]


def awards(user):
    rows = db.session.execute(
        select(Badge.slug, func.count()).join(UserBadge, UserBadge.badge_id == Badge.id)
        .where(UserBadge.user_id == user.id).group_by(Badge.slug)
    ).all()
    return dict(rows)


def scan_many(user, code, count, start=START, step=timedelta(minutes=1)):
    return [slugs(scan_at(user, code, start + i * step)) for i in range(count)]


def test_first_scan_badge_comes_with_the_first_scan_only():
    resident, code = make_user(), make_code(make_shop())
    first = scan_at(resident, code, START)
    assert first["new_badges"] == [{"slug": "first_scan", "name": "First step"}]
    assert scan_at(resident, code, START + timedelta(minutes=1))["new_badges"] == []
    award = db.session.scalar(select(UserBadge).where(UserBadge.user_id == resident.id))
    assert award.scan_id == first["id"] and award.awarded_at == START


def test_ten_and_a_hundred_scans():
    resident, code = make_user(), make_code(make_shop())
    earned = scan_many(resident, code, 100)
    assert {i + 1: s for i, s in enumerate(earned) if s} == {
        1: ["first_scan"], 10: ["scans_10"], 50: ["bags_50"], 100: ["scans_100"]}
    assert awards(resident) == {"first_scan": 1, "scans_10": 1, "bags_50": 1, "scans_100": 1}


def test_five_distinct_shops_however_many_scans_at_one():
    resident = make_user()
    codes = [make_code(make_shop()) for _ in range(5)]
    scan_many(resident, codes[0], 5)
    for i, code in enumerate(codes[1:4]):
        assert "shops_5" not in slugs(scan_at(resident, code, START + timedelta(hours=i + 1)))
    assert slugs(scan_at(resident, codes[4], START + timedelta(hours=5))) == ["shops_5"]


def test_seven_and_thirty_day_streaks():
    resident, code = make_user(), make_code(make_shop())
    earned = scan_many(resident, code, 30, step=timedelta(days=1))
    by_day = {i + 1: s for i, s in enumerate(earned) if s}
    assert by_day[7] == ["streak_7"] and by_day[30] == ["streak_30"]
    assert "streak_7" not in sum((by_day.get(d, []) for d in range(1, 7)), [])


def test_a_broken_streak_does_not_earn_the_streak_badge():
    resident, code = make_user(), make_code(make_shop())
    days = [1, 2, 3, 4, 5, 6, 8, 9]  # the 7th was missed
    for day in days:
        assert "streak_7" not in slugs(scan_at(resident, code, bkk(2026, 3, day, 9)))


def test_twenty_foam_boxes_counts_only_foam():
    resident = make_user()
    shop = make_shop()
    foam, bag = make_code(shop, "no_foam"), make_code(shop, "no_plastic_bag")
    scan_many(resident, bag, 30)
    earned = scan_many(resident, foam, 20, start=START + timedelta(hours=2))
    assert earned[19] == ["foam_20"] and "foam_20" not in sum(earned[:19], [])


def test_an_operator_badge_is_awarded_from_the_next_scan_even_retroactively():
    resident, code = make_user(), make_code(make_shop(), "no_straw")
    scan_many(resident, code, 3)
    db.session.add(Badge(slug="straws_3", name="หลอดไม่เอา", description="",
                         criteria={"type": "impact", "unit": "straw", "threshold": 3}))
    db.session.add(Badge(slug="off", name="Off", description="", active=False,
                         criteria={"type": "scan_count", "threshold": 1}))
    db.session.commit()
    assert slugs(scan_at(resident, code, START + timedelta(hours=1))) == ["straws_3"]
    assert "off" not in awards(resident)


def test_a_badge_with_broken_criteria_in_the_database_never_breaks_a_scan():
    resident, code = make_user(), make_code(make_shop())
    db.session.add(Badge(slug="broken", name="Broken", description="", criteria={"type": "x"}))
    db.session.commit()
    assert slugs(scan_at(resident, code, START)) == ["first_scan"]


def test_concurrent_scans_of_one_user_award_each_badge_exactly_once(app):
    resident = make_user()
    codes = [make_code(make_shop()) for _ in range(6)]
    jobs = [(resident.id, codes[i % 6], START + timedelta(seconds=i)) for i in range(14)]
    results = scan_concurrently(app, jobs)
    announced = sorted(s for result in results for s in slugs(result))
    assert announced == ["first_scan", "scans_10", "shops_5"]
    db.session.expire_all()
    assert awards(resident) == {"first_scan": 1, "scans_10": 1, "shops_5": 1}
    assert db.session.scalar(select(func.count()).where(Scan.user_id == resident.id)) == 14
    # Each badge came with the scan that crossed its threshold, whatever the thread order.
    by_scan = dict(db.session.execute(
        select(Badge.slug, UserBadge.scan_id).join(Badge, Badge.id == UserBadge.badge_id)
        .where(UserBadge.user_id == resident.id)).all())
    order = db.session.scalars(
        select(Scan.id).where(Scan.user_id == resident.id).order_by(Scan.id)).all()
    assert by_scan["first_scan"] == order[0] and by_scan["scans_10"] == order[9]
