"""The points hot path's statements, built once: Core, not the ORM's unit of work.

A scan credits points on every request; constructing and flushing ORM statements for it
cost several times what running them does (measured with bench/scan_profile.py).
"""
import functools

from sqlalchemy import bindparam, case, insert, update
from sqlalchemy.orm import make_transient_to_detached

from ecolife.extensions import db
from ecolife.points.models import LedgerEntry, PointLot
from ecolife.users.models import User


@functools.cache
def update_balance(lifetime, other_columns):
    """UPDATE users: balance += :delta (and lifetime points, and other columns) if >= 0."""
    # Core, built once per shape: the ORM's UPDATE would also search the session for
    # objects to synchronise; the caller sets the locked user object from RETURNING.
    users, delta = User.__table__, bindparam("delta")
    values = {"balance": users.c.balance + delta}
    if lifetime:
        after = users.c.lifetime_points + delta
        values["lifetime_points"] = case((after < 0, 0), else_=after)
    values.update({name: bindparam(name) for name in other_columns})
    # Conditional: never below zero, whatever a caller computed.
    return (update(users)
            .where(users.c.id == bindparam("user_id"), users.c.balance + delta >= 0)
            .values(values)
            .returning(users.c.balance, users.c.lifetime_points))


@functools.cache
def insert_entry():
    return insert(LedgerEntry.__table__).returning(LedgerEntry.__table__.c.id)


@functools.cache
def insert_lot():
    return insert(PointLot.__table__)


def persistent(obj):
    """``obj``, already inserted with Core, attached to the session as if loaded from it."""
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj
