"""POST /users/{id}/adjustments: operators' corrections, with a reason, audited."""
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.idempotency.models import IdempotencyKey
from ecolife.points.schemas import MAX_ADJUSTED_TOTAL
from ecolife.points.verification import verify
from ecolife.users.models import User
from tests.factories import assert_error, auth, make_user
from tests.points.helpers import credit_at, ledger, remaining
from tests.scans.helpers import run_concurrently

# Recent enough that the default 365-day expiry has not taken the points yet.
RECENT = datetime.now(UTC) - timedelta(days=60)


def adjust(client, operator, user_id, headers=None, **body):
    return client.post(f"/api/v1/users/{user_id}/adjustments", json=body,
                       headers=auth(operator, **(headers or {})))


def audits():
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_an_operator_adds_points_with_a_reason(client):
    operator, resident = make_user("operator"), make_user()
    response = adjust(client, operator, resident.id, delta=50, reason="ตู้รับขวดเสีย Broken kiosk")
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "delta": 50, "kind": "adjust",
                    "reference": f"operator:{operator.id}", "balance_after": 50,
                    "created_at": body["created_at"]}
    user = db.session.get(User, resident.id)
    assert (user.balance, user.lifetime_points) == (50, 50)
    assert remaining(resident) == [50]
    [entry] = audits()
    assert (entry.actor_id, entry.action, entry.target_type, entry.target_id) == (
        operator.id, "points.adjust", "users", str(resident.id))
    assert entry.details["delta"] == 50 and entry.details["reason"] == "ตู้รับขวดเสีย Broken kiosk"
    assert entry.details["entry_id"] == body["id"]
    mine = client.get("/api/v1/me/ledger", headers=auth(resident)).get_json()
    assert mine == [body]


def test_an_operator_takes_points_soonest_expiring_first(client):
    operator, resident = make_user("operator"), make_user()
    credit_at(resident, 10, RECENT)
    credit_at(resident, 10, RECENT + timedelta(days=30))
    response = adjust(client, operator, resident.id, delta=-12, reason="Duplicate credit")
    assert response.status_code == 201
    assert response.get_json()["balance_after"] == 8
    assert remaining(resident) == [0, 8]
    # A correction of what was earned lowers the lifetime points (the level) too.
    assert db.session.get(User, resident.id).lifetime_points == 8


def test_a_correction_can_undo_a_level_but_lifetime_never_goes_below_zero(client):
    operator, resident = make_user("operator"), make_user()
    assert adjust(client, operator, resident.id, delta=5000, reason="typo").status_code == 201
    assert adjust(client, operator, resident.id, delta=-4950, reason="meant 50").status_code == 201
    me = client.get("/api/v1/me", headers=auth(resident)).get_json()
    assert (me["balance"], me["lifetime_points"], me["level"]["number"]) == (50, 50, 1)
    credit_at(resident, 10, RECENT)
    assert adjust(client, operator, resident.id, delta=-60, reason="all").status_code == 201
    assert db.session.get(User, resident.id).lifetime_points == 0


def test_below_zero_is_refused_and_writes_nothing(client):
    operator, resident = make_user("operator"), make_user()
    credit_at(resident, 10, RECENT)
    assert_error(adjust(client, operator, resident.id, delta=-11, reason="x"), 409,
                 "insufficient_points")
    db.session.rollback()
    assert ledger(resident) == [("earn", 10, 10)]
    assert audits() == []


def test_no_adjustment_takes_points_past_the_adjusted_total(client):
    # The columns hold 2**31 - 1: without a bound, 2,148 top adjustments overflowed them and
    # every later scan of the resident failed as "out of range".
    operator, resident = make_user("operator"), make_user()
    credit_at(resident, MAX_ADJUSTED_TOTAL - 10, RECENT)
    refused = adjust(client, operator, resident.id, delta=11, reason="Top-up")
    assert "delta" in assert_error(refused, 422, "validation_error")["errors"]
    assert adjust(client, operator, resident.id, delta=10, reason="Top-up").status_code == 201
    assert db.session.get(User, resident.id).balance == MAX_ADJUSTED_TOTAL
    assert audits()[-1].details["delta"] == 10 and len(audits()) == 1


@pytest.mark.parametrize("role, status, error",
                         [("resident", 403, "forbidden"), ("shop_owner", 403, "forbidden"),
                          (None, 401, "unauthorized")])
def test_only_operators_adjust(client, role, status, error):
    resident = make_user()
    caller = make_user(role) if role else None
    assert_error(adjust(client, caller, resident.id, delta=5, reason="please"), status, error)
    assert ledger(resident) == []


def test_an_operator_cannot_adjust_their_own_points(client):
    operator = make_user("operator")
    assert_error(adjust(client, operator, operator.id, delta=5, reason="me"), 403, "forbidden")
    assert ledger(operator) == [] and audits() == []


def test_an_unknown_user_is_404(client):
    operator = make_user("operator")
    assert_error(adjust(client, operator, 999_999, delta=5, reason="x"), 404, "unknown_user")


def test_a_key_first_refused_for_an_unknown_user_is_not_reused_for_another(client):
    operator, resident = make_user("operator"), make_user()
    key = {"Idempotency-Key": "adj-typo"}
    assert_error(adjust(client, operator, 999_999, headers=key, delta=5, reason="x"), 404,
                 "unknown_user")
    assert_error(adjust(client, operator, resident.id, headers=key, delta=5, reason="x"), 422,
                 "idempotency_key_reused")
    assert ledger(resident) == [] and audits() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"delta": 0, "reason": "x"}, "delta"),
        ({"delta": "5", "reason": "x"}, "delta"),
        ({"delta": 1.5, "reason": "x"}, "delta"),
        ({"delta": 1_000_001, "reason": "x"}, "delta"),
        ({"reason": "x"}, "delta"),
        ({"delta": 5}, "reason"),
        ({"delta": 5, "reason": ""}, "reason"),
        ({"delta": 5, "reason": "   "}, "reason"),
        ({"delta": 5, "reason": "x" * 501}, "reason"),
        ({"delta": 5, "reason": "x", "kind": "earn"}, "kind"),
    ],
)
def test_bad_bodies_are_422(client, body, field):
    operator, resident = make_user("operator"), make_user()
    response = adjust(client, operator, resident.id, **body)
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert ledger(resident) == [] and audits() == []


def test_an_idempotency_key_replays_the_adjustment(client):
    operator, resident = make_user("operator"), make_user()
    key = {"Idempotency-Key": "adj-1"}
    first = adjust(client, operator, resident.id, headers=key, delta=20, reason="Kiosk")
    again = adjust(client, operator, resident.id, headers=key, delta=20, reason="Kiosk")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger(resident) == [("adjust", 20, 20)] and len(audits()) == 1
    assert_error(adjust(client, operator, resident.id, headers=key, delta=21, reason="Kiosk"),
                 422, "idempotency_key_reused")
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_concurrent_takes_never_drive_a_balance_below_zero(app):
    operator, resident = make_user("operator"), make_user()
    credit_at(resident, 100, RECENT)
    headers = auth(operator)
    results = run_concurrently(app, 30, lambda client, i: client.post(
        f"/api/v1/users/{resident.id}/adjustments", json={"delta": -10, "reason": f"take {i}"},
        headers=headers))
    assert Counter(status for status, _, _ in results) == {201: 10, 409: 20}, results[:2]
    db.session.rollback()
    assert db.session.get(User, resident.id).balance == 0
    assert sorted(after for _, _, after in ledger(resident)[1:]) == list(range(0, 100, 10))


def test_concurrent_takes_expire_a_due_lot_once(app):
    # Each debit first expires the user's due lots: without the user's row lock two of them
    # both expired the same lot (balance 48 for 90, and lots no longer matching it).
    operator, resident = make_user("operator"), make_user()
    now = datetime.now(UTC)
    credit_at(resident, 50, now - timedelta(days=40), expires_at=now - timedelta(days=1))
    credit_at(resident, 100, now - timedelta(days=1))
    headers = auth(operator)
    results = run_concurrently(app, 10, lambda client, i: client.post(
        f"/api/v1/users/{resident.id}/adjustments", json={"delta": -1, "reason": f"take {i}"},
        headers=headers))
    assert Counter(status for status, _, _ in results) == {201: 10}, results[:2]
    db.session.rollback()
    assert [delta for kind, delta, _ in ledger(resident) if kind == "expire"] == [-50]
    assert db.session.get(User, resident.id).balance == 90
    assert verify() == []


def test_an_adjustment_counts_no_points_past_their_date(client):
    operator, resident = make_user("operator"), make_user()
    credit_at(resident, 50, datetime.now(UTC) - timedelta(days=40),
              expires_at=datetime.now(UTC) - timedelta(days=1))
    response = adjust(client, operator, resident.id, delta=7, reason="Paper sorted by hand")
    assert response.status_code == 201 and response.get_json()["balance_after"] == 7
    assert client.get("/api/v1/me", headers=auth(resident)).get_json()["balance"] == 7
    assert ledger(resident) == [("earn", 50, 50), ("expire", -50, 0), ("adjust", 7, 7)]
