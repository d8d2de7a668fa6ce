"""POST /redemptions and what residents see of their vouchers."""
import io
import json
import re
from datetime import datetime, timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select, update

from ecolife.extensions import db
from ecolife.points.models import LedgerEntry, LotDebit, PointLot
from ecolife.rewards import redemptions
from ecolife.rewards.models import Redemption
from ecolife.timeutil import utcnow
from ecolife.users.models import User
from tests.factories import assert_error, auth, make_shop, make_user
from tests.rewards.helpers import (
    API, balance, cancel, give_points, make_reward, redeem, stock_left, written,
)

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$")


def test_a_resident_redeems_points_for_a_voucher(client):
    resident, shop = make_user(), make_shop()
    give_points(resident, 100)
    reward = make_reward(name="แก้วน้ำรักษ์โลก (Eco tumbler)", cost_points=30, stock=5,
                         shop_id=shop.id, voucher_valid_days=14)
    response = redeem(client, resident, reward.id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["reward_id"], body["cost_points"], body["status"]) == (reward.id, 30, "issued")
    assert body["balance"] == 70 and body["reward_name"] == "แก้วน้ำรักษ์โลก (Eco tumbler)"
    assert CODE.match(body["voucher_code"]), body["voucher_code"]
    expires = datetime.fromisoformat(body["expires_at"])
    created = datetime.fromisoformat(body["created_at"])
    assert expires - created == timedelta(days=14)
    assert body["fulfilled_at"] is None and body["shop_id"] is None

    assert balance(resident) == 70 and stock_left(reward.id) == 4
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.redemption_id == body["id"]))
    assert (entry.kind, entry.delta, entry.balance_after, entry.user_id) == (
        "redeem", -30, 70, resident.id)
    ledger = client.get(f"{API}/me/ledger", headers=auth(resident)).get_json()
    assert ledger[0]["reference"] == f"redemption:{body['id']}"



def test_the_balance_answered_is_the_one_after_this_debit(client):
    # The view dumps after the commit; a movement committed by then is not this debit's.
    from ecolife.rewards.schemas import RedemptionCreatedOut

    resident = make_user()
    give_points(resident, 100)
    redemption = redemptions.redeem_reward(resident, make_reward().id)
    give_points(resident, 50)
    assert RedemptionCreatedOut().dump(redemption)["balance"] == 70

def test_the_debit_takes_the_soonest_expiring_points_first(client):
    resident = make_user()
    give_points(resident, 20, expires_in_days=300)
    give_points(resident, 20, expires_in_days=10)
    give_points(resident, 20, expires_in_days=100)
    assert redeem(client, resident, make_reward(cost_points=30).id).status_code == 201
    lots = db.session.execute(
        select(PointLot.remaining).order_by(PointLot.expires_at)
    ).scalars().all()
    assert lots == [0, 10, 20]
    assert db.session.scalar(select(LotDebit.amount).order_by(LotDebit.id)) == 20


def make_refused(kind, resident):
    """A reward that ``resident`` is refused for the reason ``kind``; returns its id."""
    now = utcnow()
    if kind == "missing":
        return 999
    if kind == "archived":
        return make_reward(archived_at=now).id
    if kind == "future":
        return make_reward(starts_at=now + timedelta(hours=1)).id
    if kind == "past":
        return make_reward(ends_at=now - timedelta(seconds=1)).id
    if kind in ("pending shop", "suspended shop"):
        return make_reward(shop_id=make_shop(status=kind.split()[0]).id).id
    if kind == "limit":
        reward = make_reward(per_user_limit=1)
        db.session.add(Redemption(user_id=resident.id, reward_id=reward.id, cost_points=0,
                                  status="fulfilled", voucher_code="AAAAA-AAAAA",
                                  expires_at=now))
        db.session.commit()
        return reward.id
    if kind == "expensive":
        return make_reward(cost_points=101).id
    if kind == "sold out":
        return make_reward(stock=5, stock_left=0).id
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, status, error",
    [
        ("missing", 404, "unknown_reward"),
        ("archived", 404, "unknown_reward"),
        ("future", 409, "reward_unavailable"),
        ("past", 409, "reward_unavailable"),
        ("pending shop", 409, "reward_unavailable"),
        ("suspended shop", 409, "reward_unavailable"),
        ("limit", 409, "limit_reached"),
        ("expensive", 409, "insufficient_points"),
        ("sold out", 409, "out_of_stock"),
    ],
)
def test_every_refusal_writes_nothing(client, kind, status, error):
    resident = make_user()
    give_points(resident, 100)
    reward_id = make_refused(kind, resident)
    before = written(), stock_left(reward_id)
    assert_error(redeem(client, resident, reward_id, **{"Idempotency-Key": "k1"}), status, error)
    assert (written(), stock_left(reward_id)) == before
    assert balance(resident) == 100


def test_the_limit_counts_held_vouchers_not_cancelled_ones(client):
    resident, reward = make_user(), make_reward(per_user_limit=2)
    give_points(resident, 200)
    first = redeem(client, resident, reward.id).get_json()
    assert redeem(client, resident, reward.id).status_code == 201
    assert_error(redeem(client, resident, reward.id), 409, "limit_reached")
    assert cancel(client, resident, first["id"]).status_code == 200
    assert redeem(client, resident, reward.id).status_code == 201
    other = make_user()
    give_points(other, 30)
    assert redeem(client, other, reward.id).status_code == 201  # the limit is per resident


def test_unlimited_stock_stays_unlimited(client):
    resident, reward = make_user(), make_reward(stock=None)
    give_points(resident, 90)
    for _ in range(3):
        assert redeem(client, resident, reward.id).status_code == 201
    assert stock_left(reward.id) is None
    assert_error(redeem(client, resident, reward.id), 409, "insufficient_points")


@pytest.mark.parametrize("role, status", [(None, 401), ("shop_owner", 403), ("operator", 403)])
def test_only_residents_redeem(client, role, status):
    user = make_user(role) if role else None
    reward = make_reward()
    error = "unauthorized" if status == 401 else "forbidden"
    assert_error(redeem(client, user, reward.id), status, error)
    assert written() == (0, 0, 0) and stock_left(reward.id) == 10


@pytest.mark.parametrize("body", [{}, {"reward_id": "1"}, {"reward_id": 1, "balance": 5}])
def test_a_malformed_request_is_422(client, body):
    resident = make_user()
    response = client.post(f"{API}/redemptions", json=body, headers=auth(resident))
    assert_error(response, 422, "validation_error")


def test_a_retry_with_the_same_key_replays_the_voucher(client):
    resident, reward = make_user(), make_reward()
    give_points(resident, 100)
    first = redeem(client, resident, reward.id, **{"Idempotency-Key": "tap-1"})
    again = redeem(client, resident, reward.id, **{"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert written()[0] == 1 and balance(resident) == 70 and stock_left(reward.id) == 9
    other = make_reward(name="other")
    reused = redeem(client, resident, other.id, **{"Idempotency-Key": "tap-1"})
    assert_error(reused, 422, "idempotency_key_reused")
    assert redeem(client, resident, reward.id, **{"Idempotency-Key": "tap-2"}).status_code == 201
    assert written()[0] == 2


def test_a_voucher_code_collision_draws_again(client, monkeypatch):
    resident, reward = make_user(), make_reward()
    give_points(resident, 100)
    taken = redeem(client, resident, reward.id).get_json()["voucher_code"]
    draws = iter([taken, taken, "ABCDE-FGH23"])
    monkeypatch.setattr(redemptions, "new_voucher_code", lambda: next(draws))
    response = redeem(client, resident, reward.id)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["voucher_code"] == "ABCDE-FGH23"
    assert written()[0] == 2 and balance(resident) == 40


def test_voucher_codes_are_unambiguous_and_normalised():
    codes = {redemptions.new_voucher_code() for _ in range(500)}
    assert len(codes) == 500 and all(CODE.match(code) for code in codes)
    assert redemptions.normalize_voucher_code("abcde fgh23") == "ABCDE-FGH23"
    assert redemptions.normalize_voucher_code("ABCDEFGH23") == "ABCDE-FGH23"
    for bad in ("ABCDE-FGH2", "ABCDE-FGH230", "ABCDO-FGH23", "ABCD1-FGH23", "ABCDE_FGH23"):
        assert redemptions.normalize_voucher_code(bad) is None


def test_residents_see_their_own_vouchers_newest_first(client):
    resident, other, reward = make_user(), make_user(), make_reward()
    give_points(resident, 100)
    give_points(other, 100)
    ids = [redeem(client, resident, reward.id).get_json()["id"] for _ in range(3)]
    redeem(client, other, reward.id)
    cancel(client, resident, ids[0])
    response = client.get(f"{API}/me/redemptions", headers=auth(resident))
    assert [r["id"] for r in response.get_json()] == ids[::-1]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    issued = client.get(f"{API}/me/redemptions?status=issued", headers=auth(resident))
    assert [r["id"] for r in issued.get_json()] == ids[:0:-1]
    paged = client.get(f"{API}/me/redemptions?page=2&page_size=2", headers=auth(resident))
    assert [r["id"] for r in paged.get_json()] == ids[:1]
    assert client.get(f"{API}/me/redemptions", headers=auth(make_user("shop_owner"))).json == []
    assert_error(client.get(f"{API}/me/redemptions"), 401, "unauthorized")
    assert_error(client.get(f"{API}/me/redemptions?status=lost", headers=auth(resident)), 422,
                 "validation_error")


@pytest.mark.parametrize(
    "viewer, status",
    [("owner", 200), ("operator", 200), ("resident", 404), ("shop_owner", 404)],
)
def test_a_voucher_is_seen_by_its_owner_and_operators_only(client, viewer, status):
    owner, reward = make_user(), make_reward(shop_id=make_shop().id)
    give_points(owner, 100)
    voucher = redeem(client, owner, reward.id).get_json()
    user = owner if viewer == "owner" else make_user(viewer)
    response = client.get(f"{API}/redemptions/{voucher['id']}", headers=auth(user))
    if status == 200:
        assert response.status_code == 200
        assert response.get_json()["voucher_code"] == voucher["voucher_code"]
    else:
        assert_error(response, 404, "unknown_voucher")
    assert_error(client.get(f"{API}/redemptions/999", headers=auth(user)), 404, "unknown_voucher")


def test_the_qr_holds_exactly_the_voucher_code(client):
    owner, reward = make_user(), make_reward()
    give_points(owner, 100)
    voucher = redeem(client, owner, reward.id).get_json()
    url = f"{API}/redemptions/{voucher['id']}/qr.png"
    response = client.get(url, headers=auth(owner))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    image = Image.open(io.BytesIO(response.data))
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [voucher["voucher_code"]]
    assert_error(client.get(url, headers=auth(make_user())), 404, "unknown_voucher")
    assert_error(client.get(url, headers=auth(make_user("operator"))), 403, "forbidden")
    assert_error(client.get(url), 401, "unauthorized")


def test_a_used_cancelled_or_expired_voucher_has_no_qr(client):
    owner, shop = make_user(), make_shop()
    give_points(owner, 100)
    used, cancelled, late = (redeem(client, owner, make_reward(shop_id=shop.id).id).get_json()
                             for _ in range(3))
    fulfilled = client.post(f"{API}/vouchers/{used['voucher_code']}/fulfil",
                            headers=auth(db.session.get(User, shop.owner_id)))
    assert fulfilled.status_code == 200
    assert client.post(f"{API}/redemptions/{cancelled['id']}/cancel",
                       headers=auth(owner)).status_code == 200
    db.session.execute(update(Redemption).where(Redemption.id == late["id"])
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    for voucher, error in ((used, "already_fulfilled"), (cancelled, "voucher_not_valid"),
                           (late, "voucher_not_valid")):
        response = client.get(f"{API}/redemptions/{voucher['id']}/qr.png", headers=auth(owner))
        assert_error(response, 409, error)
