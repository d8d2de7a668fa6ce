"""Helpers shared by the reward tests: points, rewards, requests and what was written."""
from datetime import timedelta

from sqlalchemy import func, select

from ecolife.extensions import db
from ecolife.points.models import LedgerEntry, PointLot
from ecolife.points.service import credit, lock_user
from ecolife.rewards.models import Redemption, Reward
from ecolife.timeutil import utcnow
from ecolife.users.models import User
from tests.factories import auth

API = "/api/v1"


def give_points(user, amount, expires_in_days=None):
    """Credit ``amount`` points to ``user`` through the ledger (one lot)."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    credit(lock_user(user.id), amount, "adjust", reason="test", expires_at=expires_at)
    db.session.commit()


def make_reward(**fields):
    """A reward on sale: 30 points, stock 10 unless told."""
    fields.setdefault("name", "ถุงผ้า (Cloth bag)")
    fields.setdefault("cost_points", 30)
    fields.setdefault("stock", 10)
    fields.setdefault("stock_left", fields["stock"])
    reward = Reward(**fields)
    db.session.add(reward)
    db.session.commit()
    return reward


def redeem(client, user, reward_id, **headers):
    return client.post(f"{API}/redemptions", json={"reward_id": reward_id},
                       headers=auth(user, **headers))


def fulfil(client, user, code, **body):
    """POST .../fulfil as ``user``; with no ``body``, no body at all (as a shop tablet sends)."""
    return client.post(f"{API}/vouchers/{code}/fulfil", json=body or None, headers=auth(user))


def cancel(client, user, redemption_id, **headers):
    return client.post(f"{API}/redemptions/{redemption_id}/cancel", headers=auth(user, **headers))


def balance(user):
    return db.session.scalar(select(User.balance).where(User.id == user.id))


def stock_left(reward_id):
    return db.session.scalar(select(Reward.stock_left).where(Reward.id == reward_id))


def written():
    """(redemptions, ledger entries, lots): what a refusal must leave as it was."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Redemption, LedgerEntry, PointLot)
    )


def statuses():
    """Every redemption's status, by id."""
    return dict(db.session.execute(select(Redemption.id, Redemption.status)).all())
