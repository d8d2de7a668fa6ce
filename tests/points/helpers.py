"""Moving points through the service, as the features that own each movement do."""
from sqlalchemy import select

from ecolife.extensions import db
from ecolife.points import service
from ecolife.points.models import LedgerEntry, PointLot


def credit_at(user, amount, at, expires_at=None, kind="earn"):
    locked = service.lock_user(user.id)
    entry = service.credit(locked, amount, kind, now=at, expires_at=expires_at)
    db.session.commit()
    return entry


def debit_at(user, amount, at, kind="redeem"):
    locked = service.lock_user(user.id)
    entry = service.debit(locked, amount, kind, now=at)
    db.session.commit()
    return entry


def ledger(user):
    """[(kind, delta, balance_after)] oldest first."""
    rows = db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.balance_after)
        .where(LedgerEntry.user_id == user.id)
        .order_by(LedgerEntry.id)
    ).all()
    return [tuple(row) for row in rows]


def remaining(user):
    """[remaining] of the user's lots, in creation order."""
    return db.session.scalars(
        select(PointLot.remaining).where(PointLot.user_id == user.id).order_by(PointLot.id)
    ).all()
