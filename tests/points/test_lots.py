"""Lots: soonest-expiring spent first, expiry of what remains, refunds, and verify-ledger."""
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from ecolife.extensions import db
from ecolife.points import service
from ecolife.points.service import InsufficientPoints, expire_due
from ecolife.points.verification import verify
from ecolife.users.models import User
from tests.factories import auth, make_user
from tests.points.helpers import credit_at, debit_at, ledger, remaining

T0 = datetime(2025, 1, 15, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def fresh(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_a_debit_takes_the_soonest_expiring_lots_first(app):
    user = make_user()
    credit_at(user, 10, T0)  # expires T0 + 365 d
    credit_at(user, 10, T0, expires_at=T0 + 30 * DAY)  # later credit, sooner expiry
    credit_at(user, 10, T0 + DAY)
    debit_at(user, 15, T0 + 2 * DAY)
    assert remaining(user) == [5, 0, 10]
    debit_at(user, 12, T0 + 3 * DAY)
    assert remaining(user) == [0, 0, 3]
    assert fresh(user).balance == 3


def test_a_debit_beyond_the_balance_is_refused_and_writes_nothing(app):
    user = make_user()
    credit_at(user, 10, T0)
    with pytest.raises(InsufficientPoints):
        debit_at(user, 11, T0)
    db.session.rollback()
    assert ledger(user) == [("earn", 10, 10)] and remaining(user) == [10]


def test_a_partial_spend_then_expiry_leaves_the_right_balance(app):
    user = make_user()
    credit_at(user, 10, T0)
    credit_at(user, 20, T0 + 100 * DAY)
    debit_at(user, 14, T0 + 200 * DAY)  # 10 from the first lot, 4 from the second
    assert expire_due(T0 + 366 * DAY) == (0, 0)  # the first lot was spent before it expired
    assert fresh(user).balance == 16
    assert expire_due(T0 + 466 * DAY) == (1, 16)
    assert ledger(user) == [("earn", 10, 10), ("earn", 20, 30), ("redeem", -14, 16),
                            ("expire", -16, 0)]
    assert remaining(user) == [0, 0]
    assert (fresh(user).balance, fresh(user).lifetime_points) == (0, 30)


def test_the_expiry_job_reads_the_clock_under_each_users_lock(app, monkeypatch):
    # A long run must not date its last users' entries before the ones they made meanwhile.
    from ecolife.points.models import LedgerEntry

    first, second = make_user(), make_user()
    credit_at(first, 10, T0)
    credit_at(second, 10, T0)
    ticks = iter(T0 + 400 * DAY + n * timedelta(minutes=1) for n in range(10))
    monkeypatch.setattr(service, "utcnow", lambda: next(ticks))
    assert expire_due() == (2, 20)
    dated = db.session.scalars(
        select(LedgerEntry.created_at).where(LedgerEntry.kind == "expire")
        .order_by(LedgerEntry.id)).all()
    selected_at = T0 + 400 * DAY
    assert len(set(dated)) == 2 and all(at > selected_at for at in dated)


def test_expiry_writes_one_entry_per_lot_and_running_it_twice_changes_nothing(app):
    user, other = make_user(), make_user()
    credit_at(user, 10, T0)
    credit_at(user, 5, T0 + DAY)
    credit_at(user, 7, T0 + 300 * DAY)  # not due yet
    debit_at(user, 3, T0 + 2 * DAY)
    credit_at(other, 4, T0)
    now = T0 + 367 * DAY
    assert expire_due(now) == (2, 16)
    expire_entries = [row for row in ledger(user) if row[0] == "expire"]
    assert expire_entries == [("expire", -7, 12), ("expire", -5, 7)]
    before = (ledger(user), ledger(other), remaining(user))
    assert expire_due(now) == (0, 0)
    assert (ledger(user), ledger(other), remaining(user)) == before
    assert fresh(user).balance == 7 and fresh(other).balance == 0


def test_expiry_references_the_lot(app, client):
    user = make_user()
    entry = credit_at(user, 10, T0)
    expire_due(T0 + 400 * DAY)
    rows = client.get("/api/v1/me/ledger", headers=auth(user)).get_json()
    lot_id = db.session.scalar(
        text("SELECT id FROM point_lots WHERE entry_id = :e"), {"e": entry.id}
    )
    assert rows[0]["kind"] == "expire" and rows[0]["reference"] == f"lot:{lot_id}"


def test_a_refund_gives_back_with_the_original_expiry_and_no_lifetime(app):
    user = make_user()
    credit_at(user, 10, T0, expires_at=T0 + 10 * DAY)
    credit_at(user, 10, T0, expires_at=T0 + 20 * DAY)
    spent = debit_at(user, 15, T0 + DAY)
    locked = service.lock_user(user.id)
    service.refund(locked, spent, now=T0 + 2 * DAY)
    db.session.commit()
    assert (fresh(user).balance, fresh(user).lifetime_points) == (20, 20)
    # The refunded 10 + 5 expire when the lots they came from would have.
    assert expire_due(T0 + 11 * DAY) == (1, 10)
    assert expire_due(T0 + 21 * DAY) == (1, 10)
    assert fresh(user).balance == 0


def test_me_shows_what_expires_within_30_days(client):
    user = make_user()
    now = datetime.now(UTC)
    credit_at(user, 10, now - 350 * DAY)  # expires in 15 days
    credit_at(user, 20, now - 340 * DAY)  # in 25 days
    credit_at(user, 40, now)  # in a year
    debit_at(user, 4, now)
    me = client.get("/api/v1/me", headers=auth(user)).get_json()
    assert me["balance"] == 66 and me["lifetime_points"] == 70
    assert me["expiring"]["points"] == 26 and me["expiring"]["within_days"] == 30
    soonest = datetime.fromisoformat(me["expiring"]["next_expiry_at"])
    assert abs(soonest - (now + 15 * DAY)) < timedelta(seconds=5)


def test_me_expires_points_past_their_date_before_showing_the_balance(client):
    # Before the hourly job: the balance shown must be what a spend would find.
    user = make_user()
    now = datetime.now(UTC)
    credit_at(user, 50, now - 40 * DAY, expires_at=now - DAY)
    credit_at(user, 20, now - 2 * DAY)  # before the 50 fell due
    me = client.get("/api/v1/me", headers=auth(user)).get_json()
    assert me["balance"] == 20 and me["expiring"]["points"] == 0
    assert ledger(user) == [("earn", 50, 50), ("earn", 20, 70), ("expire", -50, 20)]
    assert client.get("/api/v1/me", headers=auth(user)).get_json()["balance"] == 20
    assert len(ledger(user)) == 3 and verify() == []


def test_expire_points_command(app):
    user = make_user()
    credit_at(user, 10, datetime.now(UTC) - 400 * DAY)
    credit_at(user, 3, datetime.now(UTC) - 40 * DAY)  # before the 10 fell due
    runner = app.test_cli_runner()
    result = runner.invoke(args=["expire-points"])
    assert result.exit_code == 0 and "expired 10 points of 1 users" in result.output
    result = runner.invoke(args=["expire-points"])
    assert result.exit_code == 0 and "expired 0 points of 0 users" in result.output
    assert fresh(user).balance == 3


@pytest.mark.parametrize(
    "corruption, message",
    [
        ("UPDATE users SET balance = balance + 1 WHERE id = :u", "ledger sums to 10, balance 11"),
        ("UPDATE point_lots SET remaining = remaining - 2 WHERE user_id = :u", "lots hold 8"),
        ("UPDATE point_lots SET remaining = remaining - 2 WHERE user_id = :u", "debits took 0"),
    ],
)
def test_verify_ledger_finds_what_is_wrong_and_exits_non_zero(app, corruption, message):
    user = make_user()
    credit_at(user, 10, T0)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code == 0 and "ledger ok" in result.output
    undo = corruption.replace("+ 1", "- 1").replace("- 2", "+ 2")
    db.session.execute(text(corruption), {"u": user.id})
    db.session.commit()
    try:
        result = runner.invoke(args=["verify-ledger"])
        assert result.exit_code == 1
        assert f"user {user.id}:" in result.output and message in result.output
    finally:
        db.session.execute(text(undo), {"u": user.id})
        db.session.commit()
    assert verify() == []


def test_verify_ledger_reports_nothing_while_points_move(app):
    # Separate statements each saw their own moment: a credit committed between them showed
    # as a mismatch. The check is one snapshot, however busy the accounts are.
    import threading

    users = [make_user() for _ in range(4)]
    for user in users:
        credit_at(user, 100, T0)
    stop, errors = threading.Event(), []

    def move(user):  # a plain id: the test's session objects stay in the test's thread
        with app.app_context():
            try:
                while not stop.is_set():
                    credit_at(user, 3, T0 + DAY)
                    debit_at(user, 2, T0 + DAY)
            except Exception as exc:  # reported below, not swallowed
                errors.append(repr(exc))

    threads = [threading.Thread(target=move, args=(SimpleNamespace(id=user.id),))
               for user in users]
    for thread in threads:
        thread.start()
    try:
        runs = [verify() for _ in range(40)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert [problems for problems in runs if problems] == []
    assert sum(fresh(user).balance for user in users) > 400  # the points did move


def test_points_past_their_date_cannot_be_spent_before_the_expiry_job_runs(app):
    user = make_user()
    credit_at(user, 100, T0, expires_at=T0 + 30 * DAY)
    credit_at(user, 10, T0)
    with pytest.raises(InsufficientPoints):
        debit_at(user, 30, T0 + 31 * DAY)
    db.session.rollback()
    entry = debit_at(user, 10, T0 + 31 * DAY)  # expire on touch, then spend what is left
    assert ledger(user) == [("earn", 100, 100), ("earn", 10, 110), ("expire", -100, 10),
                            ("redeem", -10, 0)]
    assert entry.balance_after == 0 and verify() == []


def test_a_refund_of_points_past_their_date_expires_them_at_once(app):
    user = make_user()
    credit_at(user, 50, T0, expires_at=T0 + 30 * DAY)
    entry = debit_at(user, 20, T0 + DAY)
    locked = service.lock_user(user.id)
    service.refund(locked, entry, now=T0 + 40 * DAY)
    db.session.commit()
    # The unspent 30 and the refunded 20 are both past their date: the 30 expires before
    # the refund is written (its balance_after counts no due point), the 20 right after.
    assert ledger(user) == [("earn", 50, 50), ("redeem", -20, 30), ("expire", -30, 0),
                            ("refund", 20, 20), ("expire", -20, 0)]
    assert fresh(user).balance == 0 and verify() == []


def test_a_credit_never_counts_points_past_their_date(app):
    # Before the hourly job: the new entry's balance_after (what a scan or an adjustment
    # answers) is what a spend would find, and the ledger reads in the order things fell due.
    user = make_user()
    credit_at(user, 50, T0, expires_at=T0 + 30 * DAY)
    entry = credit_at(user, 5, T0 + 31 * DAY)
    assert entry.balance_after == 5
    assert ledger(user) == [("earn", 50, 50), ("expire", -50, 0), ("earn", 5, 5)]
    assert fresh(user).balance == 5 and verify() == []


def test_a_refund_never_counts_other_points_past_their_date(app):
    user = make_user()
    credit_at(user, 50, T0, expires_at=T0 + 30 * DAY)
    credit_at(user, 40, T0)  # expires in a year
    entry = debit_at(user, 20, T0 + DAY)  # from the 50: 30 of it left, due at T0 + 30 days
    locked = service.lock_user(user.id)
    refunded = service.refund(locked, entry, now=T0 + 31 * DAY)
    db.session.commit()
    assert refunded.balance_after == 60  # the 40 and what it gave back, which expires next
    assert ledger(user) == [("earn", 50, 50), ("earn", 40, 90), ("redeem", -20, 70),
                            ("expire", -30, 40), ("refund", 20, 60), ("expire", -20, 40)]
    assert fresh(user).balance == 40 and verify() == []


def test_every_question_asked_of_lots_can_use_the_live_lot_indexes(client):
    # The indexes hold lots with remaining > 0 only. A query that compares remaining with a
    # bound parameter instead of the literal 0 cannot be proven covered by them (PostgreSQL's
    # generic plans) and scans every lot ever written.
    from sqlalchemy import event

    from tests.factories import make_code, make_shop
    from tests.rewards.helpers import make_reward, redeem
    from tests.scans.helpers import scan

    resident = make_user()
    credit_at(resident, 50, datetime.now(UTC) - 40 * DAY,
              expires_at=datetime.now(UTC) - DAY)  # due: the scan expires it
    credit_at(resident, 40, datetime.now(UTC))
    reward, code = make_reward(cost_points=30), make_code(make_shop())
    asked = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "FROM point_lots" in statement and "remaining" in statement:
            asked.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert scan(client, resident, code).status_code == 201
        assert redeem(client, resident, reward.id).status_code == 201
        assert client.get("/api/v1/me", headers=auth(resident)).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(asked) >= 4  # the scan's due check, its expiry, the debit's lots, /me's
    for statement in asked:
        assert "point_lots.remaining > 0" in statement, statement
