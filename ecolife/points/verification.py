"""``verify-ledger``: every account's balance against its ledger and its lots.

One statement, so one snapshot: on PostgreSQL each statement of a READ COMMITTED
transaction sees the data as of its own start, and a credit committed between two
queries showed as a mismatch that was gone on the next run. Streamed per user, so a
million accounts never sit in memory at once.
"""
from sqlalchemy import case, func, select

from ecolife.extensions import db
from ecolife.points.models import LedgerEntry, LotDebit, PointLot
from ecolife.users.models import User

STREAM_ROWS = 10_000


def verify():
    """Check every account; returns a list of problems (empty when all is well)."""
    problems = []
    for row in db.session.execute(_accounts().execution_options(yield_per=STREAM_ROWS)):
        problems.extend(_problems_of(row))
    return problems


def _problems_of(row):
    user, balance = f"user {row.id}", row.balance
    ledger, held = int(row.ledger or 0), int(row.held or 0)
    used, taken, expired = int(row.used or 0), int(row.taken or 0), int(row.expired or 0)
    if balance < 0:
        yield f"{user}: negative balance {balance}"
    if ledger != balance:
        yield f"{user}: ledger sums to {ledger}, balance {balance}"
    if held != balance:
        yield f"{user}: lots hold {held}, balance {balance}"
    if row.last_after is not None and row.last_after != balance:
        yield f"{user}: last balance_after {row.last_after}, balance {balance}"
    if row.negative_lots:
        yield f"{user}: {row.negative_lots} lots with a negative remainder"
    # What left the lots is what debits recorded taking plus what expired.
    if used != taken + expired:
        yield f"{user}: lots lost {used}, debits took {taken} and expiry {expired}"


def _accounts():
    """Per user: balance, ledger sum, last balance_after, lots held and used, debits, expiry."""
    entries = (
        select(LedgerEntry.user_id,
               func.sum(LedgerEntry.delta).label("ledger"),
               func.sum(case((LedgerEntry.kind == "expire", -LedgerEntry.delta), else_=0))
               .label("expired"),
               func.max(LedgerEntry.id).label("last_id"))
        .group_by(LedgerEntry.user_id)
        .subquery()
    )
    last = LedgerEntry.__table__.alias("last_entry")
    lots = (
        select(PointLot.user_id,
               func.sum(PointLot.remaining).label("held"),
               func.sum(PointLot.amount - PointLot.remaining).label("used"),
               func.sum(case((PointLot.remaining < 0, 1), else_=0)).label("negative_lots"))
        .group_by(PointLot.user_id)
        .subquery()
    )
    debits = (
        select(PointLot.user_id, func.sum(LotDebit.amount).label("taken"))
        .join(PointLot, PointLot.id == LotDebit.lot_id)
        .group_by(PointLot.user_id)
        .subquery()
    )
    return (
        select(User.id, User.balance, entries.c.ledger, entries.c.expired,
               last.c.balance_after.label("last_after"), lots.c.held, lots.c.used,
               lots.c.negative_lots, debits.c.taken)
        .select_from(User)
        .outerjoin(entries, entries.c.user_id == User.id)
        .outerjoin(last, last.c.id == entries.c.last_id)
        .outerjoin(lots, lots.c.user_id == User.id)
        .outerjoin(debits, debits.c.user_id == User.id)
        .order_by(User.id)
    )
