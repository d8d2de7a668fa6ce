"""Races on real PostgreSQL: no reward sold past its stock, no balance overspent, one outcome.

Every call runs in a thread of its own with its own app context and session, released
together by a barrier; the autouse fixture then checks the whole ledger.
"""
import threading
import time
from collections import Counter
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, update

from ecolife.extensions import db
from ecolife.points.models import LedgerEntry
from ecolife.rewards.models import Redemption, Reward
from ecolife.rewards.redemptions import expire_vouchers
from ecolife.timeutil import utcnow
from ecolife.users.models import User
from tests.factories import auth, make_shop, make_user
from tests.points.helpers import credit_at
from tests.scans.helpers import waiting_for_a_lock
from tests.rewards.helpers import API, balance, give_points, make_reward, stock_left


def race(app, calls):
    """Run every ``call(client)`` at once, each in its own thread; returns their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            try:
                client = app.test_client()
                barrier.wait(timeout=30)
                return call(client)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def post(path, headers, json=None):
    """A call for ``race``: POST and answer (status, error code or None)."""

    def call(client):
        response = client.post(API + path, json=json, headers=headers)
        return response.status_code, (response.get_json() or {}).get("error")

    return call


def redeem_call(user, reward_id, **headers):
    return post("/redemptions", auth(user, **headers), {"reward_id": reward_id})


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def issue(client, reward, resident=None):
    resident = resident or make_user()
    give_points(resident, 100)
    response = client.post(f"{API}/redemptions", json={"reward_id": reward.id},
                           headers=auth(resident))
    assert response.status_code == 201, response.get_json()
    return resident, response.get_json()


def test_thirty_residents_race_for_five_in_stock(app):
    reward = make_reward(stock=5, cost_points=30)
    residents = [make_user() for _ in range(30)]
    for resident in residents:
        give_points(resident, 100)
    results = race(app, [redeem_call(r, reward.id) for r in residents])
    assert Counter(results) == {(201, None): 5, (409, "out_of_stock"): 25}
    db.session.rollback()
    assert stock_left(reward.id) == 0
    assert count(Redemption) == 5
    assert sorted(balance(r) for r in residents) == [70] * 5 + [100] * 25


def test_one_resident_with_points_for_three_fires_twenty(app):
    resident, reward = make_user(), make_reward(stock=None, cost_points=30)
    give_points(resident, 90)
    results = race(app, [redeem_call(resident, reward.id) for _ in range(20)])
    assert Counter(results) == {(201, None): 3, (409, "insufficient_points"): 17}
    db.session.rollback()
    assert balance(resident) == 0 and count(Redemption) == 3


def test_one_key_fired_ten_times_redeems_once(app):
    resident, reward = make_user(), make_reward(stock=None, cost_points=10)
    give_points(resident, 100)
    calls = [redeem_call(resident, reward.id, **{"Idempotency-Key": "tap"}) for _ in range(10)]
    results = race(app, calls)
    assert set(results) <= {(201, None), (409, "idempotency_conflict")}
    assert (201, None) in results
    db.session.rollback()
    assert balance(resident) == 90 and count(Redemption) == 1


def test_the_same_voucher_fulfilled_twice_at_once(app, client):
    shop = make_shop()
    reward = make_reward(shop_id=shop.id)
    owner = db.session.get(User, shop.owner_id)
    for _ in range(5):
        _, voucher = issue(client, reward)
        fulfil = post(f"/vouchers/{voucher['voucher_code']}/fulfil", auth(owner))
        results = race(app, [fulfil, fulfil])
        assert sorted(results, key=str) == [(200, None), (409, "already_fulfilled")]
    db.session.rollback()
    assert count(Redemption, Redemption.status == "fulfilled") == 5


def test_cancel_racing_fulfil_has_one_winner_and_the_ledger_agrees(app, client):
    shop = make_shop()
    reward = make_reward(shop_id=shop.id, stock=20)
    owner = db.session.get(User, shop.owner_id)
    wins = Counter()
    for _ in range(8):
        resident, voucher = issue(client, reward)
        cancel = post(f"/redemptions/{voucher['id']}/cancel", auth(resident))
        fulfil = post(f"/vouchers/{voucher['voucher_code']}/fulfil", auth(owner))
        cancelled, fulfilled = race(app, [cancel, fulfil])
        db.session.rollback()
        status = db.session.scalar(select(Redemption.status).where(Redemption.id == voucher["id"]))
        refunds = count(LedgerEntry, LedgerEntry.redemption_id == voucher["id"],
                        LedgerEntry.kind == "refund")
        if cancelled == (200, None):
            assert fulfilled == (409, "voucher_not_valid")
            assert (status, refunds, balance(resident)) == ("cancelled", 1, 100)
        else:
            assert (cancelled, fulfilled) == ((409, "already_fulfilled"), (200, None))
            assert (status, refunds, balance(resident)) == ("fulfilled", 0, 70)
        wins[status] += 1
    held = count(Redemption, Redemption.status == "fulfilled")
    assert stock_left(reward.id) == 20 - held == 20 - wins["fulfilled"]


def test_cancel_racing_expiry_refunds_once(app, client):
    reward = make_reward(stock=20)
    vouchers = [issue(client, reward) for _ in range(6)]
    db.session.execute(update(Redemption).values(expires_at=utcnow()))
    db.session.commit()

    def expire(_client):
        return expire_vouchers()

    calls = [post(f"/redemptions/{v['id']}/cancel", auth(r)) for r, v in vouchers] + [expire]
    *cancels, (expired, _points) = race(app, calls)
    db.session.rollback()
    assert Counter(cancels)[(200, None)] + expired == 6
    assert set(cancels) <= {(200, None), (409, "voucher_not_valid")}
    assert count(LedgerEntry, LedgerEntry.kind == "refund") == 6
    assert all(balance(r) == 100 for r, _ in vouchers)
    assert stock_left(reward.id) == 20


def test_a_new_stock_racing_redemptions_keeps_the_count(app):
    operator, reward = make_user("operator"), make_reward(stock=None, cost_points=10)
    residents = [make_user() for _ in range(20)]
    for resident in residents:
        give_points(resident, 10)
    patch_headers = auth(operator)

    def restock(client):
        response = client.patch(f"{API}/rewards/{reward.id}", json={"stock": 12},
                                headers=patch_headers)
        return response.status_code

    *results, patched = race(app, [redeem_call(r, reward.id) for r in residents] + [restock])
    db.session.rollback()
    held = count(Redemption)
    assert held == Counter(results)[(201, None)]
    assert set(results) <= {(201, None), (409, "out_of_stock")}
    if patched == 200:
        stored = db.session.get(Reward, reward.id)
        assert stored.stock == 12 and stored.stock_left == 12 - held >= 0
    else:  # more than 12 were already held when the change came: refused
        assert patched == 422 and held > 12 and stock_left(reward.id) is None


def test_operators_adjusting_each_other_never_deadlock(app):
    # Each adjustment names its operator (actor_id): PostgreSQL's foreign-key check takes a KEY
    # SHARE lock on that operator's row, which a FOR UPDATE lock on it waited for. Two
    # operators correcting each other's points deadlocked most rounds (503 unavailable).
    first, second = make_user("operator"), make_user("operator")
    give_points(first, 1000)
    give_points(second, 1000)
    h1, h2, id1, id2 = auth(first), auth(second), first.id, second.id
    db.session.rollback()
    seen = Counter()
    for _ in range(10):
        seen.update(race(app, [
            post(f"/users/{id2}/adjustments", h1, {"delta": 1, "reason": "fix"}),
            post(f"/users/{id1}/adjustments", h2, {"delta": 1, "reason": "fix"}),
            post(f"/users/{id2}/adjustments", h1, {"delta": -1, "reason": "undo"}),
            post(f"/users/{id1}/adjustments", h2, {"delta": -1, "reason": "undo"}),
        ]))
    assert seen == {(201, None): 40}, seen


def test_an_archive_waits_for_a_redemption_in_flight(app, client, monkeypatch):
    # The redemption checks the reward under its row lock: an archive (or a change of window
    # or stock) committing meanwhile waits for it, and is never overtaken by a voucher.
    from ecolife.rewards import redemptions

    resident, operator, reward = make_user(), make_user("operator"), make_reward()
    give_points(resident, 100)
    reward_id, operator_headers = reward.id, auth(operator)
    real_take, seen = redemptions._take_stock, {}

    def take_while_archiving(rid):
        def archive():
            with app.app_context():
                seen["archive"] = app.test_client().delete(
                    f"{API}/rewards/{rid}", headers=operator_headers).status_code
        thread = threading.Thread(target=archive)
        thread.start()
        thread.join(timeout=1)  # it would finish now if nothing held the reward
        seen["archive_waited"] = thread.is_alive()
        seen["thread"] = thread
        return real_take(rid)

    monkeypatch.setattr(redemptions, "_take_stock", take_while_archiving)
    response = client.post(f"{API}/redemptions", json={"reward_id": reward_id},
                           headers=auth(resident))
    monkeypatch.undo()
    seen["thread"].join(timeout=30)
    assert response.status_code == 201 and seen["archive_waited"] and seen["archive"] == 204
    again = client.post(f"{API}/redemptions", json={"reward_id": reward_id},
                        headers=auth(resident))
    assert again.status_code == 404  # archived: unknown_reward


def test_a_redemption_that_waited_for_the_lock_reads_the_clock_after_it(app, monkeypatch):
    # The resident's 50 points fall due while the redemption waits behind another request of
    # theirs: it must find only the 10 left, not spend the 50 with the time it arrived at.
    from ecolife.points import service as points
    from ecolife.rewards import redemptions

    resident, reward = make_user(), make_reward(cost_points=50, stock=None)
    arrived = utcnow()
    credit_at(resident, 50, arrived - timedelta(days=300), expires_at=arrived + timedelta(days=1))
    credit_at(resident, 10, arrived)
    clock = [arrived]
    monkeypatch.setattr(redemptions, "utcnow", lambda: clock[0])
    held, user_id, reward_id, headers = threading.Event(), resident.id, reward.id, auth(resident)

    def hold_the_users_lock():
        with app.app_context():
            points.lock_user(user_id)
            held.set()
            deadline = time.monotonic() + 10
            while not waiting_for_a_lock() and time.monotonic() < deadline:
                time.sleep(0.02)
            clock[0] = arrived + timedelta(days=2)  # the 50 fell due meanwhile
            db.session.rollback()
            db.session.remove()

    holder = threading.Thread(target=hold_the_users_lock)
    holder.start()
    assert held.wait(10)
    response = app.test_client().post(f"{API}/redemptions", json={"reward_id": reward_id},
                                      headers=headers)
    holder.join(10)
    assert response.status_code == 409 and response.get_json()["error"] == "insufficient_points"
    assert balance(resident) == 60  # a refusal writes nothing, not even the expiry it saw


def test_a_fulfil_sees_a_suspension_that_committed_while_it_ran(app, client, monkeypatch):
    # The shop is checked, then the voucher updated: a suspension answered in between must
    # still refuse the fulfil (and one arriving later waits for it).
    from ecolife.rewards import redemptions

    owner, operator, resident = make_user("shop_owner"), make_user("operator"), make_user()
    shop = make_shop(owner)
    reward = make_reward(shop_id=shop.id)
    give_points(resident, 100)
    voucher = client.post(f"{API}/redemptions", json={"reward_id": reward.id},
                          headers=auth(resident)).get_json()["voucher_code"]
    checked, suspended = threading.Event(), threading.Event()
    real = redemptions._fulfilling_shop

    def checked_then_wait(*args, **kwargs):
        shop_id = real(*args, **kwargs)
        checked.set()
        assert suspended.wait(10)
        return shop_id

    monkeypatch.setattr(redemptions, "_fulfilling_shop", checked_then_wait)
    headers, answered = auth(owner), {}

    def fulfil():
        with app.app_context():
            try:
                response = app.test_client().post(f"{API}/vouchers/{voucher}/fulfil",
                                                  headers=headers)
                answered["fulfil"] = response.status_code, response.get_json().get("error")
            finally:
                db.session.remove()

    thread = threading.Thread(target=fulfil)
    thread.start()
    assert checked.wait(10)
    assert client.post(f"{API}/shops/{shop.id}/suspend",
                       headers=auth(operator)).status_code == 200
    suspended.set()
    thread.join(10)
    assert answered["fulfil"] == (403, "shop_not_active")
