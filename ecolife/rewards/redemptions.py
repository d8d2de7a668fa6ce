"""Redeeming points for a voucher, fulfilling it at a shop, and giving the points back.

Lock order, the same everywhere: the resident's row (``lock_user``), then the voucher,
then the reward. A redemption and every release (cancel, expiry) also touch the reward
row, so a change of stock can count the vouchers holding it under that row's lock.
"""
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ecolife.audit.service import record as audit
from ecolife.codes.service import ShopNotActive
from ecolife.codes.images import qr_png
from ecolife.errors import Conflict, Forbidden, Invalid, NotFound
from ecolife.extensions import db
from ecolife.points.models import LedgerEntry
from ecolife.points.service import InsufficientPoints, debit, lock_user, refund
from ecolife.rewards.models import Redemption, Reward
from ecolife.rewards.schemas import RedemptionCreatedOut, RedemptionOut
from ecolife.rewards.service import RewardUnavailable, UnknownReward, on_sale, vouchers_held
from ecolife.shops.models import Shop
from ecolife.shops.service import UnknownShop, get_shop
from ecolife.timeutil import utcnow

# No 0/O or 1/I: read aloud or typed from a phone screen without mistakes.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # 32**10 = 2**50 codes: a guess hits one of a million vouchers 1 in 10**9
CODE_ATTEMPTS = 5


class UnknownVoucher(NotFound):
    error, message = "unknown_voucher", "No such voucher."


class OutOfStock(Conflict):
    error, message = "out_of_stock", "This reward is out of stock."


class LimitReached(Conflict):
    error, message = "limit_reached", "You already hold as many of these as allowed."


class AlreadyFulfilled(Conflict):
    error, message = "already_fulfilled", "This voucher was already used."


class VoucherNotValid(Conflict):
    error, message = "voucher_not_valid", "This voucher was cancelled or has expired."


def new_voucher_code():
    """``XXXXX-XXXXX``: ten characters of ``ALPHABET`` from the OS's secure generator."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_voucher_code(text):
    """What a person typed (any case, with or without the dash) as stored; None if malformed."""
    raw = re.sub(r"[\s-]", "", text).upper()
    if len(raw) != CODE_LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"


def _take_stock(reward_id):
    """Take one unit; False when none is left. The caller holds the reward's row lock.

    Conditional all the same, with the CHECK behind it: never below zero, whatever a caller
    read. Unlimited rewards match too (NULL - 1 stays NULL).
    """
    return db.session.execute(
        update(Reward)
        .where(Reward.id == reward_id, (Reward.stock_left.is_(None)) | (Reward.stock_left > 0))
        .values(stock_left=Reward.stock_left - 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _insert_voucher(user, reward, cost, now):
    """Insert the redemption under a fresh code, drawing again on the rare collision."""
    for _ in range(CODE_ATTEMPTS):
        redemption = Redemption(
            user=user,
            reward=reward,
            cost_points=cost,
            status="issued",
            voucher_code=new_voucher_code(),
            expires_at=now + timedelta(days=reward.voucher_valid_days),
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(redemption)
        except IntegrityError:
            continue
        return redemption
    raise RuntimeError("no free voucher code after several draws")


def redeem_reward(user, reward_id, idem=None):
    """A resident spends points on a reward: one voucher, or a refusal that writes nothing."""
    user = lock_user(user.id, idem)
    # Read once the lock is held: a redemption that waited behind another of the user's
    # requests must not spend a lot that fell due meanwhile.
    now = utcnow()
    # The reward's row too (after the user's, the order everywhere), so an archive or a
    # change of window or stock committing meanwhile is seen here, not after the voucher.
    row = db.session.execute(
        select(Reward, on_sale(now).label("on_sale")).where(Reward.id == reward_id)
        .with_for_update(of=Reward, key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None or row.Reward.archived_at is not None:
        raise UnknownReward()
    reward = row.Reward
    if not row.on_sale:  # outside its window, or its shop is not approved
        raise RewardUnavailable()
    # The user's lock serialises their redemptions, so this count cannot race.
    limit = reward.per_user_limit
    if limit is not None and vouchers_held(reward.id, user.id) >= limit:
        raise LimitReached()
    cost = reward.cost_points  # read under the row lock: a PATCH of the cost waits for us
    if user.balance < cost:
        raise InsufficientPoints()
    if not _take_stock(reward.id):
        raise OutOfStock()
    redemption = _insert_voucher(user, reward, cost, now)
    debit(user, cost, "redeem", now=now, redemption_id=redemption.id)
    redemption.balance = user.balance  # not a column: rides along for RedemptionCreatedOut
    if idem is not None:
        idem.store(201, RedemptionCreatedOut().dump(redemption))
    db.session.commit()
    return redemption


def my_redemptions_query(user, status=None):
    """The caller's vouchers, newest first."""
    query = select(Redemption).where(Redemption.user_id == user.id).order_by(Redemption.id.desc())
    if status:
        query = query.where(Redemption.status == status)
    return query


def get_redemption(user, redemption_id):
    """A voucher, for its owner or an operator; anyone else is told it does not exist."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None or (redemption.user_id != user.id and user.role != "operator"):
        raise UnknownVoucher()
    return redemption


def voucher_qr(user, redemption_id):
    """The PNG its owner shows at the counter; it decodes to exactly the voucher code."""
    redemption = get_redemption(user, redemption_id)
    if redemption.user_id != user.id:
        raise Forbidden("Only the voucher's owner may show it.")
    # Only a voucher the counter would accept: a used, cancelled or expired one answers what
    # its fulfil would, rather than an image the shop then refuses.
    if redemption.status != "issued" or redemption.expires_at <= utcnow():
        _refuse_settled(redemption)
    return qr_png(redemption.voucher_code)


def _fulfilling_shop(actor, reward, shop_id):
    """The shop that fulfils the voucher, or refuse; None for an operator at no shop."""
    if reward.shop_id is not None:
        if shop_id not in (None, reward.shop_id):
            raise Forbidden("This voucher is redeemed at another shop.")
        shop_id = reward.shop_id
    elif shop_id is not None:
        # A shop the actor may not see answers like one that does not exist (shops' rule):
        # an owner probing with a voucher learns nothing of other owners' pending shops.
        try:
            get_shop(actor, shop_id)
        except UnknownShop:
            raise Invalid("shop_id", "No such shop.") from None
    if actor.role == "operator":
        # A voucher is used at a shop taking part: the caller checks the shop is approved
        # (``_still_approved``), for an operator as for an owner.
        return shop_id
    # An owner fulfils at one of their approved shops: the reward's, or any when it has none.
    mine = select(Shop.id, Shop.status).where(Shop.owner_id == actor.id)
    if shop_id is not None:
        mine = mine.where(Shop.id == shop_id)
    shops = db.session.execute(mine).all()  # an owner's few shops
    approved = [sid for sid, status in shops if status == "approved"]
    if not approved:
        if shops:  # theirs, but pending or suspended: say so, as to an operator
            raise ShopNotActive()
        raise Forbidden("This voucher is not redeemed at your shop.")
    if len(approved) > 1:
        raise Invalid("shop_id", "You own several shops: say which one fulfils the voucher.")
    return approved[0]


def _still_approved(shop_id):
    """Whether the shop takes part now, held so until the commit (FOR SHARE): a suspension
    committing since ``_fulfilling_shop`` read it refuses this fulfil, and one arriving now
    waits for it. Fulfils share the lock: they do not queue behind each other."""
    status = db.session.scalar(
        select(Shop.status).where(Shop.id == shop_id).with_for_update(read=True)
    )
    return status == "approved"


def _refuse_settled(redemption):
    """Why a voucher cannot change any more: used, or cancelled/expired."""
    db.session.refresh(redemption)
    if redemption.status == "fulfilled":
        raise AlreadyFulfilled()
    raise VoucherNotValid()


def fulfil_voucher(actor, voucher_code, shop_id=None):
    """A shop hands over the reward: the voucher is used, once."""
    now = utcnow()
    code = normalize_voucher_code(voucher_code)
    redemption = None
    if code is not None:
        redemption = db.session.scalar(select(Redemption).where(Redemption.voucher_code == code))
    if redemption is None:
        raise UnknownVoucher()
    shop_id = _fulfilling_shop(actor, redemption.reward, shop_id)
    if shop_id is not None and not _still_approved(shop_id):
        raise ShopNotActive()
    # Conditional: of two fulfils, or a fulfil and a cancel, exactly one changes the row.
    done = db.session.execute(
        update(Redemption)
        .where(
            Redemption.id == redemption.id,
            Redemption.status == "issued",
            Redemption.expires_at > now,
        )
        .values(status="fulfilled", fulfilled_at=now, fulfilled_shop_id=shop_id,
                fulfilled_by=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        _refuse_settled(redemption)
    if actor.role == "operator":
        audit(actor, "redemption.fulfil", redemption, {"shop_id": shop_id})
    db.session.commit()
    return redemption


def _release(redemption, status, now, *conditions, **values):
    """issued -> ``status``, points back, stock back; False if it was no longer issued (or a
    further condition on the row failed).

    The caller holds the owner's lock.
    """
    done = db.session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.status == "issued", *conditions)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        return False
    taken = db.session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.redemption_id == redemption.id, LedgerEntry.kind == "redeem"
        )
    )
    refund(redemption.user, taken, now=now, redemption_id=redemption.id)
    db.session.execute(
        update(Reward)
        .where(Reward.id == redemption.reward_id)
        .values(stock_left=Reward.stock_left + 1)  # NULL (unlimited) stays NULL
        .execution_options(synchronize_session=False)
    )
    return True


def cancel_redemption(actor, redemption_id, idem=None):
    """The owner or an operator cancels an issued voucher: points and stock come back."""
    redemption = get_redemption(actor, redemption_id)
    lock_user(redemption.user_id, idem)
    now = utcnow()  # once locked, as a redemption: a voucher may have expired while it waited
    # Past its date a voucher is no longer cancelled but expired, by expire-vouchers, with the
    # same refund: as a fulfil, a cancel then answers voucher_not_valid.
    if not _release(redemption, "cancelled", now, Redemption.expires_at > now,
                    cancelled_at=now, cancelled_by=actor.id):
        _refuse_settled(redemption)
    if actor.role == "operator":
        audit(actor, "redemption.cancel", redemption, {"user_id": redemption.user_id})
    if idem is not None:
        db.session.refresh(redemption)  # the UPDATE above bypassed the session
        idem.store(200, RedemptionOut().dump(redemption))
    db.session.commit()
    return redemption


def expire_vouchers(now=None):
    """Expire and refund issued vouchers past their date, one transaction per resident.

    Returns (vouchers, points). Safe to run twice, or beside a cancel or a fulfil. Without
    ``now`` each resident's refunds read the clock under their lock (as ``expire-points``).
    """
    user_ids = db.session.scalars(
        select(Redemption.user_id)
        .where(Redemption.status == "issued", Redemption.expires_at <= (now or utcnow()))
        .distinct()
    ).all()
    db.session.rollback()
    vouchers = points = 0
    for user_id in user_ids:
        lock_user(user_id)
        at = now or utcnow()
        due = db.session.scalars(
            select(Redemption).where(
                Redemption.user_id == user_id,
                Redemption.status == "issued",
                Redemption.expires_at <= at,
            )
        ).all()
        for redemption in due:
            if _release(redemption, "expired", at):
                vouchers, points = vouchers + 1, points + redemption.cost_points
        db.session.commit()
    return vouchers, points
