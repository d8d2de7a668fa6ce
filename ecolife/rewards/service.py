"""The rewards catalogue: what operators offer and what residents can redeem now."""
from sqlalchemy import and_, func, or_, select

from ecolife.audit.service import add_created, apply_changes, locked, record as audit
from ecolife.errors import Conflict, Forbidden, Invalid, NotFound
from ecolife.extensions import db
from ecolife.rewards.models import Redemption, Reward
from ecolife.shops.models import Shop
from ecolife.timeutil import utcnow

# Vouchers that hold a unit of stock (and count towards the per-user limit).
HOLDING = ("issued", "fulfilled")


class UnknownReward(NotFound):
    error, message = "unknown_reward", "No such reward."


class RewardUnavailable(Conflict):
    error, message = "reward_unavailable", "This reward cannot be redeemed now."


def on_sale(now):
    """SQL: not archived, within its window, and its shop (if any) approved."""
    return and_(
        Reward.archived_at.is_(None),
        or_(Reward.starts_at.is_(None), Reward.starts_at <= now),
        or_(Reward.ends_at.is_(None), Reward.ends_at > now),
        or_(
            Reward.shop_id.is_(None),
            Reward.shop_id.in_(select(Shop.id).where(Shop.status == "approved")),
        ),
    )


def list_query(user, include="active"):
    """Rewards on sale now, cheapest first; operators may ask for ``all``."""
    query = select(Reward).order_by(Reward.cost_points, Reward.id)
    if include == "all":
        if user is None or user.role != "operator":
            raise Forbidden("Only operators may list archived and inactive rewards.")
        return query
    return query.where(on_sale(utcnow()))


def get_reward(user, reward_id):
    """One reward; only operators see archived or inactive ones."""
    query = select(Reward).where(Reward.id == reward_id)
    if user is None or user.role != "operator":
        query = query.where(on_sale(utcnow()))
    reward = db.session.scalar(query)
    if reward is None:
        raise UnknownReward()
    return reward


def _check_shop(shop_id):
    if shop_id is None:
        return
    status = db.session.scalar(select(Shop.status).where(Shop.id == shop_id))
    if status != "approved":
        raise Invalid("shop_id", "No such approved shop.")


def create_reward(operator, data):
    """An operator adds a reward to the catalogue."""
    _check_shop(data.get("shop_id"))
    data = {**data, "name": data["name"].strip()}
    reward = Reward(**data, stock_left=data["stock"])
    add_created(operator, "reward.create", reward, data)
    db.session.commit()
    return reward


def vouchers_held(reward_id, user_id=None):
    """Issued or fulfilled vouchers of a reward (of one resident, when given)."""
    query = (
        select(func.count())
        .select_from(Redemption)
        .where(Redemption.reward_id == reward_id, Redemption.status.in_(HOLDING))
    )
    if user_id is not None:
        query = query.where(Redemption.user_id == user_id)
    return db.session.scalar(query)


def update_reward(operator, reward_id, changes):
    """An operator changes a reward; a new stock keeps the vouchers already handed out."""
    # Row lock: every redemption, cancel and expiry touches this row before it commits, so
    # the count of vouchers holding stock below cannot move under us.
    reward = db.session.scalar(
        select(Reward)
        .where(Reward.id == reward_id)
        .with_for_update(key_share=True)  # not FOR UPDATE: see points.service.lock_user
        .execution_options(populate_existing=True)
    )
    if reward is None:
        raise UnknownReward()
    starts = changes.get("starts_at", reward.starts_at)
    ends = changes.get("ends_at", reward.ends_at)
    if starts is not None and ends is not None and ends <= starts:
        raise Invalid("ends_at", "Must be after starts_at.")
    if "shop_id" in changes:
        _check_shop(changes["shop_id"])
    if "name" in changes:
        changes = {**changes, "name": changes["name"].strip()}
    if "stock" in changes:
        stock = changes["stock"]
        held = vouchers_held(reward.id)
        if stock is not None and stock < held:
            raise Invalid("stock", f"{held} vouchers are already issued or fulfilled.")
        reward.stock_left = None if stock is None else stock - held
    apply_changes(operator, "reward.update", reward, changes)
    db.session.commit()
    return reward


def archive_reward(operator, reward_id):
    """An operator withdraws a reward; vouchers already issued stay valid."""
    reward = db.session.get(Reward, reward_id)
    if reward is None:
        raise UnknownReward()
    if locked(reward).archived_at is None:
        reward.archived_at = utcnow()
        audit(operator, "reward.archive", reward, {
            "before": {"archived_at": None}, "after": {"archived_at": reward.archived_at},
            "name": reward.name, "stock_left": reward.stock_left,
        })
        db.session.commit()
