"""Recording a scan: the refusals, the fraud controls and the credit, in one transaction.

The cooldown and the daily limit are checked after the user's row is locked
(``points.service.lock_user``), so one user's scans run one at a time and each sees every
scan committed before it: 50 simultaneous scans of one code credit once, and a burst
across codes stops at the limit. Redis only answers repeat cooldowns early; without it
the same rules hold.
"""
import functools
import logging
import math
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import aliased, joinedload

from ecolife import timeutil
from ecolife.actions.models import Action
from ecolife.auth.decorators import authorize_locked
from ecolife.codes import tokens
from ecolife.codes.models import QrCode
from ecolife.codes.service import UnknownCode, check_code, parse_token
from ecolife.communities.models import KINDS, Community
from ecolife.errors import Forbidden, TooMany
from ecolife.extensions import db, redis_store
from ecolife.gamification import service as gamification
from ecolife.leaderboards import service as leaderboards
from ecolife.pagination import paginate
from ecolife.points.service import credit, lock_user
from ecolife.scans.models import Scan
from ecolife.scans.schemas import ScanCreatedOut
from ecolife.shops.models import Shop
from ecolife.shops.service import distance_m
from ecolife.users.levels import level_for
from ecolife.users.models import User

log = logging.getLogger(__name__)


class ShopNotActive(Forbidden):
    error, message = "shop_not_active", "This shop is not taking part right now."


class ActionNotActive(Forbidden):
    error, message = "action_not_active", "This earning rule is switched off."


class TooFar(Forbidden):
    error, message = "too_far", "You seem to be too far from the shop."


class Cooldown(TooMany):
    error, message = "cooldown", "You scanned this code a moment ago."


class DailyLimit(TooMany):
    error, message = "daily_limit", "You reached today's limit for this action."


def record_scan(user_id, data, idem=None, now=None):
    """Credit the resident ``user_id`` for scanning a code; returns what ScanCreatedOut shows.

    The user is loaded once, locked: the view only checked the token
    (``roles_required(..., load_user=False)``), so the role is decided here, on the locked row.
    """
    now = now or timeutil.utcnow()
    parsed = parse_token(_token_of(data))
    code, shop, action, community_ids = _scan_context(parsed.code_id, user_id)
    check_code(parsed, code, now)
    if shop.status != "approved":
        raise ShopNotActive()
    latitude, longitude = data.get("latitude"), data.get("longitude")
    if _outside_geofence(shop, latitude, longitude):
        raise TooFar()
    if not action.active:
        raise ActionNotActive()
    _check_cached_cooldown(user_id, code.id, action, now, idem)

    user = authorize_locked(lock_user(user_id, idem), "resident")
    today = timeutil.local_day(now)
    _check_limits(user.id, code.id, action, today, now)
    values = {
        "user_id": user.id, "code_id": code.id, "shop_id": shop.id, "action_id": action.id,
        # Copied: a later change to the rule never rewrites what this scan earned.
        "points": action.points, "impact_unit": action.impact_unit,
        "impact_amount": action.impact_amount, "local_day": today,
        "community_id": community_ids[0] if community_ids else None,
        "latitude": latitude, "longitude": longitude, "created_at": now,
    }
    # Core INSERT ... RETURNING: an ORM flush of one object costs several times more. The Scan
    # built from it only carries the values; it is never added to the session.
    scan_id = db.session.execute(_insert_scan(), values).scalar_one()
    scan = Scan(id=scan_id, shop=shop, action=action, **values)
    credit(user, scan.points, "earn", now=now, scan_id=scan.id, shop_id=shop.id, code_id=code.id,
           user_values=gamification.streak_after(user, today))
    new_badges = gamification.on_credit(user, scan, now)
    result = {
        **summary(scan),
        "balance": user.balance,
        "new_badges": new_badges,
        "level": level_for(user.lifetime_points),
    }
    if idem is not None:
        # The replay must be exactly this response, so store its serialised form.
        idem.store(201, ScanCreatedOut().dump(result))
    # Read before the commit expires them: after it, each would cost a query.
    after = (user.id, community_ids, code.id, action.cooldown_minutes * 60, scan.points)
    db.session.commit()
    _after_commit(*after, now)
    return result


@functools.cache
def _insert_scan():
    return insert(Scan.__table__).returning(Scan.__table__.c.id)


def summary(scan):
    """A scan as ScanOut shows it (``scan.shop`` and ``scan.action`` loaded)."""
    return {
        "id": scan.id,
        "points": scan.points,
        "shop": {"id": scan.shop.id, "name": scan.shop.name},
        "action": scan.action.slug,
        "impact": {"unit": scan.impact_unit, "amount": scan.impact_amount},
        "created_at": scan.created_at,
    }


def list_my_scans(user, pagination_parameters):
    """The resident's own scans, newest first (served by ix_scans_user_created)."""
    query = (
        select(Scan)
        .where(Scan.user_id == user.id)
        .order_by(Scan.id.desc())
        .options(joinedload(Scan.shop), joinedload(Scan.action))
    )
    return [summary(scan) for scan in paginate(query, pagination_parameters)]


def _token_of(data):
    """The token of a scan body: given as is, or cut out of the URL the camera read."""
    if "token" in data:
        return data["token"]
    try:
        return tokens.token_from_url(data["url"], current_app.config["PUBLIC_BASE_URL"])
    except tokens.InvalidToken:
        raise UnknownCode() from None


def _outside_geofence(shop, latitude, longitude):
    # Only a location the client chose to send is checked, against a shop that has a fence.
    if latitude is None or longitude is None:
        return False
    if shop.latitude is None or shop.longitude is None or shop.geofence_m is None:
        return False
    return distance_m((latitude, longitude), (shop.latitude, shop.longitude)) > shop.geofence_m


def _scan_context(code_id, user_id):
    """The code with its shop and rule, and the ids of the user's village and the communities
    above it (the boards the credit goes to), in one round trip: (code, shop, action,
    [village, ...]); (None, None, None, []) for an unknown code."""
    row = db.session.execute(
        _context_query(), {"code_id": code_id, "user_id": user_id}
    ).one_or_none()
    if row is None:
        return None, None, None, []
    return row[0], row[1], row[2], [cid for cid in row[3:] if cid is not None]


@functools.cache
def _context_query():
    # Built once: aliasing a mapped class is costly, and the statement never changes.
    # The community chain is outer-joined from the user's village (read without a lock, as
    # authentication used to): a user without one (or a chain shorter than KINDS) gets NULLs.
    levels = [aliased(Community) for _ in KINDS]
    village_id = select(User.community_id).where(User.id == bindparam("user_id"))
    query = (
        select(QrCode, Shop, Action, *(level.id for level in levels))
        .select_from(QrCode)
        .join(Shop, Shop.id == QrCode.shop_id)
        .join(Action, Action.id == QrCode.action_id)
        .outerjoin(levels[0], levels[0].id == village_id.scalar_subquery())
    )
    for child, parent in zip(levels, levels[1:]):
        query = query.outerjoin(parent, parent.id == child.parent_id)
    return query.where(QrCode.id == bindparam("code_id"))


def _check_limits(user_id, code_id, action, today, now):
    """Cooldown, then daily limit; run with the user's row locked.

    A statement of its own, after the lock: a subquery of the locking SELECT would read a
    snapshot taken before the lock was granted, and miss the scan that held it.
    """
    cooldown = timedelta(minutes=action.cooldown_minutes)
    if not cooldown and action.daily_limit is None:
        return
    last_at, today_count = db.session.execute(_limits_query(), {
        "user_id": user_id, "code_id": code_id, "action_id": action.id, "day": today,
        "since": now - cooldown,  # no cooldown: since = now, and nothing is later
    }).one()
    if last_at is not None and cooldown:
        raise Cooldown(retry_after=math.ceil((last_at + cooldown - now).total_seconds()))
    if action.daily_limit is not None and today_count >= action.daily_limit:
        raise DailyLimit(retry_after=math.ceil(_until_local_midnight(now)))


@functools.cache
def _limits_query():
    # The user's last scan of this code within the cooldown (ix_scans_user_code_created),
    # and their scans of this action today (ix_scans_user_action_day).
    last_at = (
        select(func.max(Scan.created_at))
        .where(Scan.user_id == bindparam("user_id"), Scan.code_id == bindparam("code_id"),
               Scan.created_at > bindparam("since", type_=Scan.created_at.type))
        .scalar_subquery()
    )
    today_count = (
        select(func.count())
        .select_from(Scan)
        .where(Scan.user_id == bindparam("user_id"), Scan.action_id == bindparam("action_id"),
               Scan.local_day == bindparam("day", type_=Scan.local_day.type))
        .scalar_subquery()
    )
    return select(last_at, today_count)


def _until_local_midnight(now):
    tz = timeutil.local_tz()
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return (datetime.combine(tomorrow, time(0), tzinfo=tz) - now).total_seconds()


def _cooldown_key(user_id, code_id):
    return redis_store.key("cooldown", user_id, code_id)


def _check_cached_cooldown(user_id, code_id, action, now, idem):
    """Fast path: refuse a repeat from Redis before any lock. A miss or an error proves nothing."""
    if not action.cooldown_minutes:
        return
    try:
        last = redis_store.client.get(_cooldown_key(user_id, code_id))
    except Exception:  # Redis down: the database check below decides
        return
    # The key holds the last scan's time, so the rule as it is now and an injected clock
    # give the same answer as the database check would.
    if last is not None:
        wait = float(last) + action.cooldown_minutes * 60 - now.timestamp()
        if wait > 0:
            if idem is not None:
                # The scan that set this key may be this very request's first attempt,
                # committed a moment ago: that is a replay, not a cooldown.
                idem.recheck()
            raise Cooldown(retry_after=math.ceil(wait))


def _after_commit(user_id, community_ids, code_id, cooldown_seconds, points, now):
    """Redis after the commit: derived data only, so a failure is logged, never raised."""
    try:
        if cooldown_seconds:
            redis_store.client.set(
                _cooldown_key(user_id, code_id), repr(now.timestamp()), ex=cooldown_seconds
            )
    except Exception:
        log.warning("redis unavailable: cooldown fast path not set", exc_info=True)
    try:
        leaderboards.publish_credit(user_id, points, now, community_ids)
    except Exception:
        log.warning("leaderboard publish failed for user %s", user_id, exc_info=True)
