"""Streaks: consecutive local (Bangkok) days with a credited scan, current and best."""
from datetime import datetime, timedelta

import pytest

from ecolife.extensions import db
from ecolife.users.models import User
from tests.factories import auth, make_code, make_shop, make_user
from tests.gamification.scanning import BKK, bkk, scan_at, unlimit_actions


@pytest.fixture
def code():
    unlimit_actions()
    return make_code(make_shop())


def streak(user):
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    return fresh.streak_current, fresh.streak_best, fresh.streak_last_day


def test_first_scan_starts_a_streak_and_a_second_that_day_does_not_extend_it(code):
    resident = make_user()
    scan_at(resident, code, bkk(2026, 3, 2, 8))
    scan_at(resident, code, bkk(2026, 3, 2, 20))
    assert streak(resident) == (1, 1, bkk(2026, 3, 2).date())


def test_local_midnight_starts_a_new_day_though_utc_is_still_the_same_day(code):
    resident = make_user()
    before, after = bkk(2026, 3, 2, 23, 50), bkk(2026, 3, 3, 0, 10)
    assert before.utctimetuple()[:3] == after.utctimetuple()[:3]  # both on 2026-03-02 UTC
    scan_at(resident, code, before)
    scan_at(resident, code, after)
    assert streak(resident) == (2, 2, bkk(2026, 3, 3).date())


def test_utc_midnight_inside_one_local_day_is_the_same_day(code):
    resident = make_user()
    before, after = bkk(2026, 3, 3, 6, 50), bkk(2026, 3, 3, 7, 10)  # 23:50 and 00:10 UTC
    assert before.utctimetuple()[:3] != after.utctimetuple()[:3]
    scan_at(resident, code, before)
    scan_at(resident, code, after)
    assert streak(resident) == (1, 1, bkk(2026, 3, 3).date())


def test_a_missed_day_restarts_the_streak_and_keeps_the_best(code):
    resident = make_user()
    for day in (1, 2, 3):
        scan_at(resident, code, bkk(2026, 3, day, 9))
    assert streak(resident)[:2] == (3, 3)
    scan_at(resident, code, bkk(2026, 3, 5, 9))  # the 4th was missed
    assert streak(resident) == (1, 3, bkk(2026, 3, 5).date())
    scan_at(resident, code, bkk(2026, 3, 6, 9))
    assert streak(resident)[:2] == (2, 3)


def test_a_scan_dated_before_the_last_counted_day_changes_nothing(code):
    # Two servers' clocks a moment apart around midnight: the later-committed scan may carry
    # the earlier day. It must neither restart nor extend the streak.
    resident = make_user()
    scan_at(resident, code, bkk(2026, 3, 1, 23, 59))
    scan_at(resident, code, bkk(2026, 3, 2, 0, 1))
    scan_at(resident, code, bkk(2026, 3, 1, 23, 59))
    assert streak(resident) == (2, 2, bkk(2026, 3, 2).date())


def test_get_me_shows_the_streak_and_a_lapsed_one_as_zero(client, code):
    resident, lapsed = make_user(), make_user()
    now = datetime.now(BKK)
    for days_ago in (2, 1, 0):
        scan_at(resident, code, now - timedelta(days=days_ago))
    for days_ago in (5, 4):
        scan_at(lapsed, code, now - timedelta(days=days_ago))
    assert client.get("/api/v1/me", headers=auth(resident)).get_json()["streak"] == {
        "current": 3, "best": 3}
    assert client.get("/api/v1/me", headers=auth(lapsed)).get_json()["streak"] == {
        "current": 0, "best": 2}
