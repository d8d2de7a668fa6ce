"""Recording a scan: the refusals, the fraud controls and the credit, in one transaction.

The cooldown and the daily limit are checked after the user's row is locked (the lock
``points.service.lock_user`` takes, here in the statement that reads the code), so one
user's scans run one at a time and each sees every scan committed before it: 50
simultaneous scans of one code credit once, and a burst across codes stops at the limit.
The code's, shop's and rule's state is read again then too: a revoke, a suspension, a moved
geofence or a rule switched off that committed while the scan waited for the lock counts.
Redis only receives the credit for the leaderboards, after the commit: the rules never ask it.
"""
import functools
import logging
import math
from collections import namedtuple
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import bindparam, exists, func, insert, select
from sqlalchemy.orm import joinedload

from ecolife import timeutil
from ecolife.actions.models import Action
from ecolife.auth.decorators import authorize_locked
from ecolife.codes import tokens
from ecolife.codes.models import QrCode
from ecolife.codes.service import (
    ActionNotActive, CodeRevoked, ShopNotActive, UnknownCode, check_code, parse_token,
)
from ecolife.communities.models import KINDS, Community
from ecolife.errors import Forbidden, TooMany
from ecolife.extensions import db, execute_core
from ecolife.gamification import service as gamification
from ecolife.leaderboards import service as leaderboards
from ecolife.pagination import paginate
from ecolife.points.models import LIVE, PointLot
from ecolife.points.service import credit
from ecolife.scans.models import Scan
from ecolife.scans.schemas import ScanCreatedOut
from ecolife.shops.models import Shop
from ecolife.shops.service import distance_m
from ecolife.users.levels import level_for
from ecolife.users.models import User

log = logging.getLogger(__name__)


class TooFar(Forbidden):
    error, message = "too_far", "You seem to be too far from the shop."


class Cooldown(TooMany):
    error, message = "cooldown", "You scanned this code a moment ago."


class DailyLimit(TooMany):
    error, message = "daily_limit", "You reached today's limit for this action."


def record_scan(user_id, data, idem=None, now=None):
    """Credit the resident ``user_id`` for scanning a code; returns what ScanCreatedOut shows.

    The view only checked the token (``roles_required(..., load_user=False)``): the user is
    loaded here once, locked, with the code, its shop and rule and the user's communities in
    the same statement, and the role is decided on that row.
    """
    parsed = parse_token(_token_of(data))
    user, code, shop, action, community_ids = _lock_with_context(user_id, parsed.code_id)
    # Read once the lock is held: one user's scans then take their days in lock order, so a
    # scan at 23:59:59 that waited behind one at 00:00:01 cannot break a running streak.
    now = now or timeutil.utcnow()
    authorize_locked(user, "resident")
    if idem is not None:
        # Locked: a twin with this key that finished first answers for us (replayed).
        idem.recheck()
    check_code(parsed, code, now)
    latitude, longitude = data.get("latitude"), data.get("longitude")
    today = timeutil.local_day(now)
    due_lots = _check_after_lock(user.id, code.id, action, (latitude, longitude), today, now)
    values = {
        "user_id": user.id, "code_id": code.id, "shop_id": shop.id, "action_id": action.id,
        # Copied: a later change to the rule never rewrites what this scan earned.
        "points": action.points, "impact_unit": action.impact_unit,
        "impact_amount": action.impact_amount, "local_day": today,
        "community_id": community_ids[0] if community_ids else None,
        "latitude": latitude, "longitude": longitude, "created_at": now,
    }
    # Core INSERT ... RETURNING: an ORM flush of one object costs several times more. The
    # scan is never loaded back: what the response and the badges need is at hand.
    scan_id = execute_core(_insert_scan(), values).scalar_one()
    scan = SimpleNamespace(id=scan_id, shop=shop, action=action, **values)
    credit(user, scan.points, "earn", now=now, scan_id=scan.id, shop_id=shop.id, code_id=code.id,
           user_values=gamification.streak_after(user, today), due_lots=due_lots)
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
    db.session.commit()
    _after_commit(user.id, community_ids, scan.points, now)
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


# What a scan reads of the user, the code, its shop and its rule: plain rows, not mapped
# objects (loading those per scan cost more than the query). The shop's status and fence and
# the rule's switch are not among them: they are read after the lock (_after_lock_query).
_USER = (User, "id", "role", "community_id", "balance", "lifetime_points", "streak_current",
         "streak_best", "streak_last_day")
_CODE = (QrCode, "id", "mode", "kid", "secret", "revoked_at")
_SHOP = (Shop, "id", "name")
_ACTION = (Action, "id", "slug", "points", "impact_unit", "impact_amount",
           "cooldown_minutes", "daily_limit")
_PARTS = tuple(namedtuple(model.__name__ + "Row", names)
               for model, *names in (_CODE, _SHOP, _ACTION))


def _lock_with_context(user_id, code_id):
    """Lock the user's row (``points.service.lock_user``'s lock) and read, in the same round
    trip, the code with its shop and rule and the ids of the user's village and the
    communities above it (the boards the credit goes to).

    Returns (user, code, shop, action, [village, ...]): the user a namespace of the locked
    row's columns that the credit updates as it writes them, None for a user that is gone;
    code, shop and action None for an unknown code.
    """
    row = execute_core(_context_query(), {"code_id": code_id, "user_id": user_id}).one_or_none()
    if row is None:
        return None, None, None, None, []
    at = len(_USER) - 1
    user = SimpleNamespace(**dict(zip(_USER[1:], row[:at])))
    parts = []
    for part in _PARTS:
        values = row[at:at + len(part._fields)]
        parts.append(None if values[0] is None else part._make(values))
        at += len(part._fields)
    return user, *parts, [cid for cid in row[at:] if cid is not None]


@functools.cache
def _context_query():
    # Built once on the tables (a Core statement skips the ORM's per-execution work).
    # Outer joins from the user: an unknown code gives NULLs, so does a user without a
    # village (or with a chain shorter than KINDS). Only the user's row is locked.
    users, codes = User.__table__, QrCode.__table__
    shops, actions, communities = Shop.__table__, Action.__table__, Community.__table__
    levels = [communities.alias(f"level_{i}") for i in range(len(KINDS))]
    columns = [model.__table__.c[name]
               for model, *names in (_USER, _CODE, _SHOP, _ACTION) for name in names]
    joined = (
        users.outerjoin(codes, codes.c.id == bindparam("code_id"))
        .outerjoin(shops, shops.c.id == codes.c.shop_id)
        .outerjoin(actions, actions.c.id == codes.c.action_id)
        .outerjoin(levels[0], levels[0].c.id == users.c.community_id)
    )
    for child, parent in zip(levels, levels[1:]):
        joined = joined.outerjoin(parent, parent.c.id == child.c.parent_id)
    return (select(*columns, *(level.c.id for level in levels))
            .select_from(joined)
            .where(users.c.id == bindparam("user_id"))
            .with_for_update(of=users, key_share=True))  # lock_user's lock


def _check_after_lock(user_id, code_id, action, location, today, now):
    """The refusals that need the lock held, in API.md's order: the code, its shop (status,
    then geofence against ``location``) and rule as they are now, then the cooldown and the
    daily limit. Returns whether the user holds points past their date (asked in the same
    round trip, for the credit).

    A statement of its own, after the lock: the locking SELECT's other rows, like any
    subquery of it, come from a snapshot taken before the lock was granted. A scan that waited
    behind another of the user's requests would miss that scan (and credit past the cooldown),
    and a revoke, a suspension, a moved geofence or a rule switched off that committed
    meanwhile.
    """
    cooldown = timedelta(minutes=action.cooldown_minutes)
    now_row = execute_core(_after_lock_query(), {
        "user_id": user_id, "code_id": code_id, "action_id": action.id, "day": today,
        "since": now - cooldown,  # no cooldown: since = now, and nothing is later
        "now": now,
    }).one()
    if now_row.revoked_at is not None:
        raise CodeRevoked()
    if now_row.status != "approved":
        raise ShopNotActive()
    if _outside_geofence(now_row, *location):
        raise TooFar()
    if not now_row.active:
        raise ActionNotActive()
    if now_row.last_at is not None and cooldown:
        raise Cooldown(retry_after=math.ceil((now_row.last_at + cooldown - now).total_seconds()))
    if action.daily_limit is not None and now_row.today_count >= action.daily_limit:
        raise DailyLimit(retry_after=math.ceil(_until_local_midnight(now)))
    return now_row.due_lots


@functools.cache
def _after_lock_query():
    # The code's, its shop's and its rule's current state (primary keys), the user's last
    # scan of this code within the cooldown (ix_scans_user_code_created), their scans of this
    # action today (ix_scans_user_action_day), and whether they hold a lot past its date
    # (ix_point_lots_user_live). On the tables, not the mapped classes: a Core statement
    # skips the ORM's per-execution work.
    scans, lots = Scan.__table__.c, PointLot.__table__.c
    codes, shops, actions = QrCode.__table__, Shop.__table__, Action.__table__
    last_at = (
        select(func.max(scans.created_at))
        .where(scans.user_id == bindparam("user_id"), scans.code_id == bindparam("code_id"),
               scans.created_at > bindparam("since", type_=scans.created_at.type))
        .scalar_subquery()
    )
    today_count = (
        select(func.count())
        .select_from(Scan.__table__)
        .where(scans.user_id == bindparam("user_id"), scans.action_id == bindparam("action_id"),
               scans.local_day == bindparam("day", type_=scans.local_day.type))
        .scalar_subquery()
    )
    due_lots = exists().where(
        lots.user_id == bindparam("user_id"), LIVE,
        lots.expires_at <= bindparam("now", type_=lots.expires_at.type),
    )
    return (
        select(codes.c.revoked_at, shops.c.status, shops.c.latitude, shops.c.longitude,
               shops.c.geofence_m, actions.c.active, last_at.label("last_at"),
               today_count.label("today_count"), due_lots.label("due_lots"))
        .select_from(codes.join(shops, shops.c.id == codes.c.shop_id)
                     .join(actions, actions.c.id == codes.c.action_id))
        .where(codes.c.id == bindparam("code_id"))
    )


def _until_local_midnight(now):
    tz = timeutil.local_tz()
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return (datetime.combine(tomorrow, time(0), tzinfo=tz) - now).total_seconds()


def _after_commit(user_id, community_ids, points, now):
    """The leaderboards, after the commit: derived data, so a failure is logged, not raised."""
    try:
        leaderboards.publish_credit(user_id, points, now, community_ids)
    except Exception:
        log.warning("leaderboard publish failed for user %s", user_id, exc_info=True)
