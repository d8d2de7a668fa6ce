"""Races against a real PostgreSQL: many threads, one user, and still one credit per rule."""
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select, text

from ecolife.actions.models import Action
from ecolife.codes.service import code_url, current_token
from ecolife.extensions import db, redis_store
from ecolife.scans import service as scans_service
from ecolife.users.models import User
from tests.factories import auth, make_code, make_shop, make_user
from tests.gamification.scanning import bkk, scan_at, unlimit_actions
from tests.scans.helpers import dead_redis, run_concurrently, waiting_for_a_lock, written

THREADS = 50


@pytest.fixture(params=["redis-up", "redis-down"])
def redis_mode(request, monkeypatch):
    if request.param == "redis-down":
        monkeypatch.setattr(redis_store, "client", dead_redis())
    return request.param


def balance(user):
    db.session.rollback()
    return db.session.get(User, user.id).balance


def test_fifty_simultaneous_scans_of_one_code_credit_once(app, redis_mode):
    resident = make_user()
    code = make_code(make_shop())
    body, headers = {"url": code_url(code)}, auth(resident)
    results = run_concurrently(
        app, THREADS, lambda client, i: client.post("/api/v1/scans", json=body, headers=headers)
    )
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: 1, 429: THREADS - 1}, results[:3]
    refusals = {json["error"] for status, json, _ in results if status == 429}
    assert refusals == {"cooldown"}
    assert balance(resident) == 5
    assert written(resident.id) == (1, 1, 1)


def test_fifty_requests_with_one_key_credit_once_and_agree(app, redis_mode):
    resident = make_user()
    code = make_code(make_shop())
    body = {"url": code_url(code)}
    headers = auth(resident, **{"Idempotency-Key": "tap-once"})
    results = run_concurrently(
        app, THREADS, lambda client, i: client.post("/api/v1/scans", json=body, headers=headers)
    )
    fresh = [r for r in results if r[0] == 201 and "Idempotent-Replayed" not in r[2]]
    replays = [r for r in results if r[0] == 201 and "Idempotent-Replayed" in r[2]]
    conflicts = [r for r in results if r[0] == 409]
    outcomes = Counter((status, (json or {}).get("error")) for status, json, _ in results)
    assert len(fresh) == 1, outcomes
    assert len(fresh) + len(replays) + len(conflicts) == THREADS, outcomes
    assert all(r[1]["error"] == "idempotency_conflict" for r in conflicts)
    assert all(r[1] == fresh[0][1] for r in replays)
    assert balance(resident) == 5
    assert written(resident.id) == (1, 1, 1)


def test_a_burst_across_codes_stops_at_the_daily_limit(app, redis_mode):
    action = db.session.scalar(select(Action).where(Action.slug == "no_straw"))
    action.cooldown_minutes, action.daily_limit = 0, 5
    db.session.commit()
    resident = make_user()
    urls = [code_url(make_code(make_shop(), "no_straw")) for _ in range(20)]
    headers = auth(resident)
    results = run_concurrently(
        app, 20,
        lambda client, i: client.post("/api/v1/scans", json={"url": urls[i]}, headers=headers),
    )
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: 5, 429: 15}, results[:3]
    assert {json["error"] for status, json, _ in results if status == 429} == {"daily_limit"}
    assert balance(resident) == 10
    assert written(resident.id) == (5, 5, 5)


def test_many_residents_scanning_at_once_are_all_credited(app):
    shop = make_shop()
    codes = [make_code(shop, slug) for slug in ("no_plastic_bag", "no_straw", "own_cup")]
    residents = [make_user() for _ in range(10)]
    urls = [code_url(code) for code in codes]
    headers = [auth(resident) for resident in residents]
    results = run_concurrently(
        app, 30,
        lambda client, i: client.post("/api/v1/scans", json={"url": urls[i % 3]},
                                      headers=headers[i // 3]),
    )
    assert Counter(status for status, _, _ in results) == {201: 30}, results[:3]
    assert [balance(resident) for resident in residents] == [12] * 10


def test_scans_take_their_day_in_lock_order_so_midnight_cannot_break_a_streak(app,
                                                                              monkeypatch):
    # Two scans straddling Bangkok midnight, the one that reads the clock first delayed before
    # it reaches the user's lock (a slow token check here; network jitter in life). Had the
    # clock been read before the lock, the 00:00 scan would commit first and the 23:59 one be
    # ignored as an earlier day, resetting a 3-day streak to 1.
    unlimit_actions()
    shop = make_shop()
    straw, cup = make_code(shop, "no_straw"), make_code(shop, "own_cup")
    resident = make_user()
    for day in (1, 2, 3):
        scan_at(resident, straw, bkk(2026, 3, day, 9))
    ticks = iter([bkk(2026, 3, 4, 23, 59), bkk(2026, 3, 5, 0, 1)])
    clock_lock = threading.Lock()

    def clock():
        with clock_lock:
            return next(ticks)

    slow_token = current_token(straw)
    parse_token = scans_service.parse_token

    def slow_parse(token):
        if token == slow_token:
            time.sleep(0.5)
        return parse_token(token)

    monkeypatch.setattr(scans_service.timeutil, "utcnow", clock)
    monkeypatch.setattr(scans_service, "parse_token", slow_parse)
    user_id = resident.id
    db.session.commit()

    def scan(token):
        with app.app_context():
            try:
                scans_service.record_scan(user_id, {"token": token})
            finally:
                db.session.remove()

    first = threading.Thread(target=scan, args=(slow_token,))
    first.start()
    time.sleep(0.1)
    scan(current_token(cup))
    first.join()
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert (user.streak_current, user.streak_best) == (5, 5)


HERE, FAR = (13.75, 100.5), (14.5, 100.5)  # about 80 km apart


@pytest.mark.parametrize("change, scanned_at, refusal", [
    # Outside the fence too: a revoke and a suspension still come first, as API.md orders them.
    ("revoke", FAR, (410, "code_revoked")), ("suspend", FAR, (403, "shop_not_active")),
    ("move_fence", HERE, (403, "too_far")), ("switch_off", HERE, (403, "action_not_active")),
])
def test_a_scan_that_waited_for_the_lock_sees_what_committed_meanwhile(app, client, change,
                                                                       scanned_at, refusal):
    # The locking statement reads the code, shop and rule as they were before its lock was
    # granted: a revoke (answered 204, "revoked for good"), a suspension, a moved shop or a
    # rule switched off while the scan waited must still refuse it, in the contract's order.
    owner, operator, resident = make_user("shop_owner"), make_user("operator"), make_user()
    shop = make_shop(owner, latitude=HERE[0], longitude=HERE[1], geofence_m=100)
    code = make_code(shop)
    body = {"url": code_url(code), "latitude": scanned_at[0], "longitude": scanned_at[1]}
    user_id, headers = resident.id, auth(resident)
    answered = {}

    def scan():
        with app.app_context():
            try:
                response = app.test_client().post("/api/v1/scans", json=body, headers=headers)
                answered["scan"] = response.status_code, response.get_json().get("error")
            finally:
                db.session.remove()

    with db.engine.connect() as other_request:  # another request of the resident's, in flight
        other_request.execute(text("SELECT id FROM users WHERE id = :id FOR NO KEY UPDATE"),
                              {"id": user_id})
        thread = threading.Thread(target=scan)
        thread.start()
        deadline = time.monotonic() + 10
        while not waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        response = {
            "revoke": lambda: client.delete(f"/api/v1/shops/{shop.id}/codes/{code.id}",
                                            headers=auth(owner)),
            "suspend": lambda: client.post(f"/api/v1/shops/{shop.id}/suspend",
                                           headers=auth(operator)),
            "move_fence": lambda: client.patch(f"/api/v1/shops/{shop.id}",
                                               json={"latitude": FAR[0], "longitude": FAR[1]},
                                               headers=auth(owner)),
            "switch_off": lambda: client.patch("/api/v1/actions/no_plastic_bag",
                                               json={"active": False}, headers=auth(operator)),
        }[change]()
        assert response.status_code in (200, 204)
        other_request.rollback()
    thread.join(10)
    assert answered["scan"] == refusal
    assert written(user_id) == (0, 0, 0)
