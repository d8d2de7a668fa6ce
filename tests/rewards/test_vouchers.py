"""At the shop and after: fulfilling a voucher, cancelling it, and expiring unused ones."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.points.models import LedgerEntry, PointLot
from ecolife.rewards.models import Redemption
from ecolife.rewards.redemptions import expire_vouchers
from ecolife.timeutil import utcnow
from ecolife.users.models import User
from tests.factories import assert_error, make_shop, make_user
from tests.rewards.helpers import (
    balance, cancel, fulfil, give_points, make_reward, redeem, statuses, stock_left, written,
)


def issue(client, reward, resident=None, points=100):
    """A resident (new unless given) with ``points`` redeems ``reward``; returns the voucher."""
    resident = resident or make_user()
    if points:
        give_points(resident, points)
    response = redeem(client, resident, reward.id)
    assert response.status_code == 201, response.get_json()
    return resident, response.get_json()


def owner_of(shop):
    return db.session.get(User, shop.owner_id)


def backdate(voucher_id):
    """Put a voucher's expiry in the past without the sweep having run."""
    db.session.execute(
        update(Redemption)
        .where(Redemption.id == voucher_id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()


def test_the_owner_of_the_rewards_shop_fulfils_the_voucher_once(client):
    shop = make_shop()
    reward = make_reward(shop_id=shop.id)
    resident, voucher = issue(client, reward)
    typed = voucher["voucher_code"].lower().replace("-", "")  # as read aloud and typed
    refused = fulfil(client, owner_of(shop), typed, note="x")
    assert "note" in assert_error(refused, 422, "validation_error")["errors"]
    response = fulfil(client, owner_of(shop), typed)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["shop_id"], body["id"]) == ("fulfilled", shop.id, voucher["id"])
    assert body["fulfilled_at"] is not None and body["reward_name"] == reward.name
    stored = db.session.get(Redemption, voucher["id"])
    assert stored.fulfilled_by == shop.owner_id
    assert_error(fulfil(client, owner_of(shop), voucher["voucher_code"]), 409, "already_fulfilled")
    assert_error(cancel(client, resident, voucher["id"]), 409, "already_fulfilled")
    assert balance(resident) == 70 and stock_left(reward.id) == 9


def test_another_shop_cannot_fulfil_it(client):
    shop, other = make_shop(), make_shop()
    reward = make_reward(shop_id=shop.id)
    _, voucher = issue(client, reward)
    code = voucher["voucher_code"]
    assert_error(fulfil(client, owner_of(other), code), 403, "forbidden")
    # Naming one's own shop, or the reward's shop one does not own, changes nothing.
    assert_error(fulfil(client, owner_of(other), code, shop_id=other.id), 403, "forbidden")
    assert_error(fulfil(client, owner_of(other), code, shop_id=shop.id), 403, "forbidden")
    assert_error(fulfil(client, owner_of(shop), code, shop_id=other.id), 403, "forbidden")
    assert statuses() == {voucher["id"]: "issued"}


def test_a_suspended_shop_cannot_fulfil(client):
    shop = make_shop()
    reward = make_reward(shop_id=shop.id)
    _, voucher = issue(client, reward)
    shop.status = "suspended"
    db.session.commit()
    assert_error(fulfil(client, owner_of(shop), voucher["voucher_code"]), 403, "shop_not_active")
    assert statuses() == {voucher["id"]: "issued"}


def test_any_approved_shop_fulfils_a_reward_without_one(client):
    reward = make_reward(shop_id=None)
    _, first = issue(client, reward)
    _, second = issue(client, reward)
    _, third = issue(client, reward)
    single = make_shop()
    response = fulfil(client, owner_of(single), first["voucher_code"])
    assert response.status_code == 200 and response.get_json()["shop_id"] == single.id

    owner = make_user("shop_owner")
    make_shop(owner)
    two = make_shop(owner)
    make_shop(owner, status="pending")
    body = assert_error(fulfil(client, owner, second["voucher_code"]), 422, "validation_error")
    assert "shop_id" in body["errors"]
    response = fulfil(client, owner, second["voucher_code"], shop_id=two.id)
    assert response.status_code == 200 and response.get_json()["shop_id"] == two.id
    assert_error(fulfil(client, owner, third["voucher_code"], shop_id=single.id), 403, "forbidden")
    # Another owner's pending shop answers like no shop at all: its existence does not leak.
    for hidden in (999, make_shop(status="pending").id, make_shop(status="suspended").id):
        body = assert_error(fulfil(client, owner, third["voucher_code"], shop_id=hidden), 422,
                            "validation_error")
        assert body["errors"] == {"shop_id": ["No such shop."]}

    pending_only = make_shop(status="pending")
    assert_error(fulfil(client, owner_of(pending_only), third["voucher_code"]), 403,
                 "shop_not_active")
    assert statuses()[third["id"]] == "issued"


def test_an_operator_fulfils_and_it_is_audited(client):
    shop, operator = make_shop(), make_user("operator")
    _, at_shop = issue(client, make_reward(shop_id=shop.id))
    _, anywhere = issue(client, make_reward(name="any"))
    assert fulfil(client, operator, at_shop["voucher_code"]).get_json()["shop_id"] == shop.id
    assert fulfil(client, operator, anywhere["voucher_code"]).get_json()["shop_id"] is None
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["redemption.fulfil", "redemption.fulfil"]


def test_an_operator_cannot_record_a_fulfil_at_a_shop_not_taking_part(client):
    operator = make_user("operator")
    pending, shop = make_shop(status="pending"), make_shop()
    _, anywhere = issue(client, make_reward(name="any"))
    _, at_shop = issue(client, make_reward(shop_id=shop.id))
    shop.status = "suspended"
    db.session.commit()
    assert_error(fulfil(client, operator, anywhere["voucher_code"], shop_id=pending.id), 403,
                 "shop_not_active")
    assert_error(fulfil(client, operator, at_shop["voucher_code"]), 403, "shop_not_active")
    assert statuses() == {anywhere["id"]: "issued", at_shop["id"]: "issued"}


def test_shop_id_null_means_not_said(client):
    shop = make_shop()
    _, voucher = issue(client, make_reward(shop_id=shop.id))
    response = fulfil(client, owner_of(shop), voucher["voucher_code"], shop_id=None)
    assert response.status_code == 200 and response.get_json()["shop_id"] == shop.id


def test_unknown_or_malformed_codes_are_404(client):
    owner = owner_of(make_shop())
    for code in ("ABCDE-FGH23", "ABCDE", "0000000000", "ABCDE-FGH23-X"):
        assert_error(fulfil(client, owner, code), 404, "unknown_voucher")


def test_residents_cannot_fulfil(client):
    resident, voucher = issue(client, make_reward())
    assert_error(fulfil(client, resident, voucher["voucher_code"]), 403, "forbidden")
    assert_error(fulfil(client, None, voucher["voucher_code"]), 401, "unauthorized")
    assert statuses() == {voucher["id"]: "issued"}


def test_cancelled_or_expired_vouchers_are_not_valid(client):
    shop = make_shop()
    reward = make_reward(shop_id=shop.id)
    resident, cancelled = issue(client, reward)
    _, late = issue(client, reward)
    assert cancel(client, resident, cancelled["id"]).status_code == 200
    backdate(late["id"])
    for voucher in (cancelled, late):
        assert_error(fulfil(client, owner_of(shop), voucher["voucher_code"]), 409,
                     "voucher_not_valid")
    assert statuses() == {cancelled["id"]: "cancelled", late["id"]: "issued"}


@pytest.mark.parametrize("who", ["owner", "operator"])
def test_a_voucher_past_its_date_is_not_cancelled_but_expired(client, who):
    resident, voucher = issue(client, make_reward())
    backdate(voucher["id"])
    before = written()
    actor = resident if who == "owner" else make_user("operator")
    assert_error(cancel(client, actor, voucher["id"]), 409, "voucher_not_valid")
    assert written() == before and balance(resident) == 70
    assert expire_vouchers() == (1, 30)
    assert statuses() == {voucher["id"]: "expired"} and balance(resident) == 100


def test_a_cancel_refunds_the_points_with_their_expiry_and_restores_stock(client):
    resident = make_user()
    give_points(resident, 20, expires_in_days=10)
    give_points(resident, 20, expires_in_days=200)
    original_expiries = db.session.scalars(select(PointLot.expires_at).order_by(PointLot.id)).all()
    reward = make_reward(cost_points=30)
    _, voucher = issue(client, reward, resident, points=0)
    response = cancel(client, resident, voucher["id"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "cancelled" and body["cancelled_at"] is not None
    assert balance(resident) == 40 and stock_left(reward.id) == 10
    refund = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "refund"))
    assert (refund.delta, refund.redemption_id) == (30, voucher["id"])
    new_lots = db.session.execute(
        select(PointLot.amount, PointLot.expires_at)
        .where(PointLot.entry_id == refund.id)
        .order_by(PointLot.expires_at)
    ).all()
    # The debit took 20 from the lot expiring first and 10 from the next: they come back as such.
    assert new_lots == [(20, original_expiries[0]), (10, original_expiries[1])]
    assert_error(cancel(client, resident, voucher["id"]), 409, "voucher_not_valid")
    assert balance(resident) == 40


@pytest.mark.parametrize("who, status", [("resident", 404), ("shop_owner", 404), ("operator", 200)])
def test_only_the_owner_or_an_operator_cancels(client, who, status):
    owner, voucher = issue(client, make_reward())
    response = cancel(client, make_user(who), voucher["id"])
    if status == 200:
        assert response.get_json()["status"] == "cancelled" and balance(owner) == 100
        audit = db.session.scalar(select(AuditEntry))
        assert (audit.action, audit.target_id) == ("redemption.cancel", str(voucher["id"]))
    else:
        assert_error(response, 404, "unknown_voucher")
        assert statuses() == {voucher["id"]: "issued"} and balance(owner) == 70


def test_a_cancel_retried_with_its_key_is_replayed(client):
    resident, voucher = issue(client, make_reward())
    first = cancel(client, resident, voucher["id"], **{"Idempotency-Key": "undo-1"})
    again = cancel(client, resident, voucher["id"], **{"Idempotency-Key": "undo-1"})
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    refunds = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refund")).all()
    assert len(refunds) == 1 and balance(resident) == 100


def test_expiry_refunds_unused_vouchers_once(client, app):
    reward, unlimited = make_reward(stock=3), make_reward(name="free", stock=None, cost_points=10)
    resident, late = issue(client, reward)
    _, also_late = issue(client, unlimited, resident, points=0)
    _, current = issue(client, reward, resident, points=0)
    _, used = issue(client, reward, make_user())
    for voucher in (late, also_late, used):
        backdate(voucher["id"])
    db.session.execute(update(Redemption).where(Redemption.id == used["id"])
                       .values(status="fulfilled"))
    db.session.commit()
    before = written()

    result = app.test_cli_runner().invoke(args=["expire-vouchers"])
    assert result.exit_code == 0 and "expired 2 vouchers, refunded 40 points" in result.output
    assert statuses() == {late["id"]: "expired", also_late["id"]: "expired",
                          current["id"]: "issued", used["id"]: "fulfilled"}
    assert balance(resident) == 100 - 30
    assert stock_left(reward.id) == 1 and stock_left(unlimited.id) is None
    assert written()[1] == before[1] + 2  # two refund entries

    assert expire_vouchers() == (0, 0)  # the second run changes nothing
    assert written()[1] == before[1] + 2 and balance(resident) == 70
    assert_error(cancel(client, resident, late["id"]), 409, "voucher_not_valid")


def test_the_voucher_expiry_reads_the_clock_under_each_residents_lock(client, monkeypatch):
    # As expire-points: a long run must not date its last refunds before what came meanwhile.
    from ecolife.rewards import redemptions

    reward = make_reward(stock=None)
    for voucher in (issue(client, reward)[1], issue(client, reward)[1]):
        backdate(voucher["id"])
    start = utcnow()
    ticks = iter(start + n * timedelta(minutes=1) for n in range(1, 10))
    monkeypatch.setattr(redemptions, "utcnow", lambda: next(ticks))
    assert expire_vouchers() == (2, 60)
    dated = db.session.scalars(select(LedgerEntry.created_at)
                               .where(LedgerEntry.kind == "refund")).all()
    assert len(set(dated)) == 2 and all(at > start + timedelta(minutes=1) for at in dated)


def test_cancel_refuses_a_body_with_fields(client):
    from tests.factories import auth

    resident = make_user()
    response = client.post("/api/v1/redemptions/1/cancel", json={"anything": 1},
                           headers=auth(resident))
    assert_error(response, 422, "validation_error")
