"""Moving points: every credit and debit goes through here.

Callers lock the user first (``lock_user``; a scan takes the same lock in its first
statement, ``scans.service._context_query``) and commit once. The balance is changed by
a conditional UPDATE in the same transaction as the ledger entry, with the database's
CHECK (balance >= 0) behind it. Credits create lots; debits take from the
soonest-expiring lots first and record what they took, so a refund can give it back
with its original expiry.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from ecolife.audit.service import record as audit
from ecolife.errors import Conflict, Forbidden, Invalid, NotFound
from ecolife.extensions import db, execute_core
from ecolife.leaderboards import service as leaderboards
from ecolife.points import statements
from ecolife.points.models import LIVE, LedgerEntry, LotDebit, PointLot
from ecolife.points.schemas import MAX_ADJUSTED_TOTAL, LedgerEntryOut
from ecolife.timeutil import utcnow
from ecolife.users.models import User

# Kinds that count towards lifetime points (levels): what was earned, not given back.
LIFETIME_KINDS = ("earn", "adjust")
# Where an entry's points came from; those a caller does not name are NULL.
SOURCE_COLUMNS = ("scan_id", "redemption_id", "shop_id", "code_id", "actor_id", "reason",
                  "community_id")


class InsufficientPoints(Conflict):
    error, message = "insufficient_points", "Not enough points."


class UnknownUser(NotFound):
    error, message = "unknown_user", "No such user."


def lock_user(user_id, idem=None):
    """Lock the user's row for this transaction: every points movement starts here (a scan
    takes this same lock with its code, in ``scans.service._context_query``).

    One lock per user, always taken first (before any reward or code row), so
    concurrent requests for one user run one at a time and never deadlock. None if there
    is no such user.

    FOR NO KEY UPDATE (``key_share``), the lock an UPDATE of the balance takes anyway: it
    queues every other locker of the row, but not the KEY SHARE lock PostgreSQL's foreign-key
    checks take on a user whom another transaction names (an operator as a ledger entry's
    actor, an audit entry's, a voucher's canceller). FOR UPDATE waited for those, and two
    operators adjusting each other deadlocked.
    """
    user = db.session.execute(
        select(User)
        .where(User.id == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if user is not None and idem is not None:
        idem.recheck()
    return user


def _apply(user, delta, kind, source, now, user_values=None):
    user_values = user_values or {}
    # Lifetime points (levels) count what was earned; an operator's negative adjustment is a
    # correction of what was earned, so it lowers them too (never below zero). Counted in
    # the same statement: one trip.
    lifetime = kind in LIFETIME_KINDS and (delta > 0 or kind == "adjust")
    row = execute_core(
        statements.update_balance(lifetime, tuple(sorted(user_values))),
        {"user_id": user.id, "delta": delta, **user_values},
    ).one_or_none()
    if row is None:
        raise InsufficientPoints()
    new_balance, lifetime = row
    _written(user, {"balance": new_balance, "lifetime_points": lifetime, **user_values})
    entry = dict.fromkeys(SOURCE_COLUMNS) | source | {
        "user_id": user.id, "delta": delta, "kind": kind, "balance_after": new_balance,
        "created_at": now,
    }
    # A Core INSERT ... RETURNING id: an ORM flush of one new object costs several times more.
    entry["id"] = execute_core(statements.insert_entry(), entry).scalar_one()
    return statements.persistent(LedgerEntry(**entry))


def _written(user, values):
    """Show on ``user`` what the UPDATE wrote: as loaded values on a mapped User (a flush must
    not write them again), as plain attributes on a locked row read with Core (a scan's)."""
    if inspect(user, raiseerr=False) is None:
        for name, value in values.items():
            setattr(user, name, value)
    else:
        for name, value in values.items():
            set_committed_value(user, name, value)


def credit(user, amount, kind, *, now=None, expires_at=None, user_values=None, due_lots=None,
           **source):
    """Add ``amount`` points as a new lot; returns the ledger entry.

    Points past their date are expired first, as a debit does: the balance this entry
    records, and the one the caller answers, never counts them. ``due_lots``: whether the
    user holds any, when the caller has asked already (a scan, in its limits query); None
    asks here. ``user_values``: other columns of the locked user row to set in the same
    UPDATE (a scan's streak), to save a statement.
    """
    if amount <= 0:
        raise ValueError("a credit is positive")
    now = now or utcnow()
    if due_lots is None or due_lots:
        expire_user_lots(user, now)
    entry = _apply(user, amount, kind, source, now, user_values)
    if expires_at is None:
        expires_at = now + timedelta(days=current_app.config["POINTS_EXPIRE_DAYS"])
    execute_core(statements.insert_lot(), {
        "user_id": user.id, "entry_id": entry.id, "amount": amount, "remaining": amount,
        "expires_at": expires_at, "created_at": now,
    })
    return entry


def debit(user, amount, kind, *, now=None, **source):
    """Take ``amount`` points, soonest-expiring lots first; InsufficientPoints if short."""
    if amount <= 0:
        raise ValueError("a debit is positive")
    now = now or utcnow()
    # Expire on touch: points past their date are gone even before expire-points runs.
    expire_user_lots(user, now)
    if user.balance < amount:
        raise InsufficientPoints()
    entry = _apply(user, -amount, kind, source, now)
    lots = db.session.scalars(
        select(PointLot)
        .where(PointLot.user_id == user.id, LIVE)
        .order_by(PointLot.expires_at, PointLot.id)
        .limit(amount)  # every lot holds at least 1: never more rows than this are needed
    )
    left = amount
    for lot in lots:
        take = min(lot.remaining, left)
        lot.remaining -= take
        db.session.add(LotDebit(entry_id=entry.id, lot_id=lot.id, amount=take))
        left -= take
        if left == 0:
            break
    if left:  # lots and balance disagree: refuse rather than corrupt
        raise RuntimeError(f"user {user.id}: lots short by {left} for a debit")
    return entry


def refund(user, debit_entry, *, now=None, **source):
    """Give back what ``debit_entry`` took, as new lots keeping each original expiry."""
    now = now or utcnow()
    expire_user_lots(user, now)  # as a credit does: the refund's balance_after counts no due lot
    taken = db.session.execute(
        select(LotDebit.amount, PointLot.expires_at)
        .join(PointLot, PointLot.id == LotDebit.lot_id)
        .where(LotDebit.entry_id == debit_entry.id)
        .order_by(LotDebit.id)
    ).all()
    entry = _apply(user, -debit_entry.delta, "refund", source, now)
    for amount, expires_at in taken:
        db.session.add(
            PointLot(
                user_id=user.id,
                entry_id=entry.id,
                amount=amount,
                remaining=amount,
                expires_at=expires_at,
                created_at=now,
            )
        )
    if any(expires_at <= now for _, expires_at in taken):
        # Given back past their date: they expire at once, as they would have unspent.
        db.session.flush()
        expire_user_lots(user, now)
    return entry


def adjust_points(operator, user_id, delta, reason, idem=None, now=None):
    """An operator's correction of a balance, with a reason; audited. Returns the entry."""
    if user_id == operator.id:
        raise Forbidden("Operators cannot adjust their own points.")
    if db.session.get(User, user_id) is None:
        raise UnknownUser()
    user = lock_user(user_id, idem)
    now = now or utcnow()  # once locked: the user's entries take their times in lock order
    source = {"actor_id": operator.id, "reason": reason, "community_id": user.community_id}
    if delta > 0 and max(user.balance, user.lifetime_points) + delta > MAX_ADJUSTED_TOTAL:
        raise Invalid("delta", f"Would take the points past {MAX_ADJUSTED_TOTAL:,}.")
    if delta > 0:
        entry = credit(user, delta, "adjust", now=now, **source)
    else:
        entry = debit(user, -delta, "adjust", now=now, **source)
    audit(operator, "points.adjust", user,
          {"delta": delta, "reason": reason, "entry_id": entry.id,
           "balance_after": entry.balance_after})
    if idem is not None:
        idem.store(201, LedgerEntryOut().dump(entry))
    resident = (user.id, user.role, user.community_id)  # read before the commit expires them
    db.session.commit()
    leaderboards.publish_correction(resident, delta, now)
    return entry


def ledger_query(user):
    """The user's ledger, newest first (served by ix_ledger_entries_user_id_id)."""
    return select(LedgerEntry).where(LedgerEntry.user_id == user.id).order_by(LedgerEntry.id.desc())


def expire_user_lots(user, now):
    """Write one ``expire`` entry per due lot's remainder; returns the points expired."""
    lots = db.session.scalars(
        select(PointLot)
        .where(PointLot.user_id == user.id, LIVE, PointLot.expires_at <= now)
        .order_by(PointLot.expires_at, PointLot.id)
    ).all()
    total = 0
    for lot in lots:
        amount, lot.remaining = lot.remaining, 0
        _apply(user, -amount, "expire", {"reason": f"lot:{lot.id}"}, now)
        total += amount
    return total


def expire_user_now(user_id, now=None):
    """Expire one user's due lots in a transaction of its own, under the user's lock; returns
    the points expired. (For the job, and for a read that found some: the balance it shows is
    then what a spend would find.) Without ``now``, the clock is read once the lock is held,
    so the expiry entries take their times in lock order with the user's other entries."""
    user = lock_user(user_id)
    now = now or utcnow()
    expired = expire_user_lots(user, now) if user is not None else 0
    db.session.commit()
    return expired


def expire_due(now=None):
    """Expire every due lot, one committed transaction per user; returns (users, points).

    Without ``now`` each user's expiry reads the clock under that user's lock: a long run
    would otherwise date its last users' entries before ones they made while it ran.
    """
    user_ids = db.session.scalars(
        select(PointLot.user_id)
        .where(LIVE, PointLot.expires_at <= (now or utcnow()))
        .distinct()
    ).all()
    db.session.rollback()
    users = points = 0
    for user_id in user_ids:
        expired = expire_user_now(user_id, now)
        users, points = users + (expired > 0), points + expired
    return users, points


def expiring_points(user_id, within_days, now=None):
    """Points that expire within ``within_days``, and the soonest such expiry (at or before
    ``now``: some are already due)."""
    now = now or utcnow()
    points, soonest = db.session.execute(
        select(func.coalesce(func.sum(PointLot.remaining), 0), func.min(PointLot.expires_at)).where(
            PointLot.user_id == user_id,
            LIVE,
            PointLot.expires_at <= now + timedelta(days=within_days),
        )
    ).one()
    return int(points), soonest
