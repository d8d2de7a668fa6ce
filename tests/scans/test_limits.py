"""Cooldown and daily limit: the numbers, the local-day boundaries, and Redis not needed."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ecolife.actions.models import Action
from ecolife.extensions import db, redis_store
from ecolife.points.models import PointLot
from ecolife.scans.models import Scan
from tests.factories import assert_error, make_code, make_shop, make_user
from tests.points.helpers import credit_at, ledger
from tests.scans.helpers import dead_redis, scan, written


def set_rule(slug, **fields):
    action = db.session.scalar(select(Action).where(Action.slug == slug))
    for name, value in fields.items():
        setattr(action, name, value)
    db.session.commit()


@pytest.fixture(params=["redis", "redis-down"])
def redis_mode(request, monkeypatch):
    """The same rules must hold with Redis up or down (they never ask it)."""
    if request.param == "redis-down":
        monkeypatch.setattr(redis_store, "client", dead_redis())
    return request.param


def test_cooldown_refuses_the_same_code_until_it_has_passed(client, clock, redis_mode):
    resident = make_user()
    code = make_code(make_shop(), "no_plastic_bag")  # cooldown 15 minutes
    clock.set_local("2026-03-10 10:00")
    assert scan(client, resident, code).status_code == 201
    clock.advance(minutes=14, seconds=30)
    response = scan(client, resident, code)
    body = assert_error(response, 429, "cooldown")
    assert body["retry_after"] == 30 and response.headers["Retry-After"] == "30"
    assert written(resident.id) == (1, 1, 1)
    clock.advance(seconds=31)
    response = scan(client, resident, code)
    assert response.status_code == 201 and response.get_json()["balance"] == 10


def test_cooldown_is_per_code(client, clock, redis_mode):
    resident, other = make_user(), make_user()
    shop = make_shop()
    first, second = make_code(shop, "no_plastic_bag"), make_code(shop, "no_plastic_bag")
    assert scan(client, resident, first).status_code == 201
    assert scan(client, resident, second).status_code == 201
    assert scan(client, other, first).status_code == 201
    assert_error(scan(client, resident, first), 429, "cooldown")


def test_cooldown_retry_after_is_at_least_one_second(client, clock):
    resident = make_user()
    code = make_code(make_shop())
    assert scan(client, resident, code).status_code == 201
    clock.advance(minutes=14, seconds=59, microseconds=900_000)
    body = assert_error(scan(client, resident, code), 429, "cooldown")
    assert body["retry_after"] == 1


def test_a_shortened_cooldown_applies_at_once(client, clock):
    resident = make_user()
    code = make_code(make_shop(), "no_plastic_bag")
    assert scan(client, resident, code).status_code == 201
    clock.advance(minutes=6)
    set_rule("no_plastic_bag", cooldown_minutes=5)
    assert scan(client, resident, code).status_code == 201


def test_daily_limit_counts_the_action_across_codes_and_shops(client, clock, redis_mode):
    set_rule("no_straw", cooldown_minutes=0, daily_limit=3)
    resident = make_user()
    codes = [make_code(make_shop(), "no_straw") for _ in range(4)]
    other_action = make_code(make_shop(), "no_foam")
    clock.set_local("2026-03-10 12:00:00")
    for code in codes[:3]:
        assert scan(client, resident, code).status_code == 201
    response = scan(client, resident, codes[3])
    body = assert_error(response, 429, "daily_limit")
    assert body["retry_after"] == 12 * 3600  # until local midnight
    assert response.headers["Retry-After"] == str(12 * 3600)
    assert written(resident.id) == (3, 3, 3)
    assert scan(client, resident, other_action).status_code == 201


def test_the_day_is_the_bangkok_day_not_the_utc_day(client, clock, redis_mode):
    """23:59 and 00:01 Bangkok are 16:59 and 17:01 UTC: one UTC day, two local days."""
    set_rule("no_plastic_bag", cooldown_minutes=0, daily_limit=2)
    resident = make_user()
    code = make_code(make_shop(), "no_plastic_bag")
    clock.set_local("2026-03-10 00:01")
    assert scan(client, resident, code).status_code == 201
    clock.set_local("2026-03-10 23:58")
    assert scan(client, resident, code).status_code == 201
    clock.set_local("2026-03-10 23:59")
    body = assert_error(scan(client, resident, code), 429, "daily_limit")
    assert body["retry_after"] == 60
    clock.set_local("2026-03-11 00:01")  # same UTC day (17:01Z), a new local day
    assert scan(client, resident, code).status_code == 201
    assert scan(client, resident, code).status_code == 201
    assert_error(scan(client, resident, code), 429, "daily_limit")
    days = db.session.scalars(select(Scan.local_day).order_by(Scan.id)).all()
    assert [d.isoformat() for d in days] == ["2026-03-10"] * 2 + ["2026-03-11"] * 2


def test_cooldown_spans_local_midnight(client, clock, redis_mode):
    """A new day resets the daily count, not the cooldown."""
    resident = make_user()
    code = make_code(make_shop(), "no_plastic_bag")
    clock.set_local("2026-03-10 23:59")
    assert scan(client, resident, code).status_code == 201
    clock.set_local("2026-03-11 00:01")
    body = assert_error(scan(client, resident, code), 429, "cooldown")
    assert body["retry_after"] == 13 * 60
    clock.set_local("2026-03-11 00:14")
    assert scan(client, resident, code).status_code == 201


def test_cooldown_is_checked_before_the_daily_limit(client, clock):
    set_rule("no_plastic_bag", daily_limit=1)
    resident = make_user()
    code = make_code(make_shop(), "no_plastic_bag")
    assert scan(client, resident, code).status_code == 201
    assert_error(scan(client, resident, code), 429, "cooldown")


def test_no_cooldown_and_no_limit_when_the_rule_has_none(client, clock):
    set_rule("refill", cooldown_minutes=0, daily_limit=None)
    resident = make_user()
    code = make_code(make_shop(), "refill")
    for expected in range(1, 8):
        response = scan(client, resident, code)
        assert response.get_json()["balance"] == 5 * expected


def test_with_redis_down_scans_still_credit_and_cooldown_holds(client, monkeypatch, clock):
    monkeypatch.setattr(redis_store, "client", dead_redis())
    resident = make_user()
    code = make_code(make_shop())
    response = scan(client, resident, code, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201 and response.get_json()["balance"] == 5
    assert_error(scan(client, resident, code), 429, "cooldown")
    replay = scan(client, resident, code, headers={"Idempotency-Key": "k1"})
    assert replay.get_json() == response.get_json()
    clock.advance(minutes=16)
    assert scan(client, resident, code).get_json()["balance"] == 10
    assert written(resident.id) == (2, 2, 2)



def test_a_refused_scan_expires_nothing_even_with_points_past_their_date(client):
    # The due points are expired by the credit, after every refusal: a 429 writes nothing,
    # and its replay under the same key neither.
    resident, code = make_user(), make_code(make_shop())
    now = datetime.now(UTC)
    credit_at(resident, 50, now - timedelta(days=40), expires_at=now + timedelta(days=1))
    assert scan(client, resident, code).status_code == 201
    before = ledger(resident)
    db.session.execute(update(PointLot).where(PointLot.user_id == resident.id)
                       .values(expires_at=now - timedelta(seconds=1)))
    db.session.commit()
    for _ in range(2):
        response = scan(client, resident, code, headers={"Idempotency-Key": "again"})
        assert_error(response, 429, "cooldown")
        assert ledger(resident) == before
