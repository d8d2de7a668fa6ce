"""The account holder's own view of themselves."""
from datetime import timedelta

from sqlalchemy import select

from ecolife.communities.models import Community
from ecolife.errors import Invalid
from ecolife.extensions import db
from ecolife.points.service import expire_user_now, expiring_points
from ecolife.timeutil import local_day, utcnow
from ecolife.users.levels import level_for

EXPIRY_WARNING_DAYS = 30


def check_community(community_id):
    """Residents join a village: refuse unknown communities and non-village ones."""
    kind = db.session.scalar(select(Community.kind).where(Community.id == community_id))
    if kind is None:
        raise Invalid("community_id", "No such community.")
    if kind != "village":
        raise Invalid("community_id", "Members belong to a village.")


def current_streak(user, today=None):
    """The streak as of today: it has lapsed if the last credited day is before yesterday."""
    today = today or local_day(utcnow())
    last = user.streak_last_day
    alive = last is not None and last >= today - timedelta(days=1)
    return {"current": user.streak_current if alive else 0, "best": user.streak_best}


def describe(user):
    """``GET /me``: the account, its balance, level, streak and points about to expire.

    Points already past their date are expired first, as a spend would: without this the
    balance counted them until the hourly ``expire-points`` ran, and a resident shown 100 could
    be refused an 80-point reward.
    """
    now = utcnow()
    points, next_expiry = expiring_points(user.id, EXPIRY_WARNING_DAYS, now)
    if next_expiry is not None and next_expiry <= now:
        expire_user_now(user.id, now)
        points, next_expiry = expiring_points(user.id, EXPIRY_WARNING_DAYS, now)
    return {
        "id": user.id,
        "display_name": user.display_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "community_id": user.community_id,
        "created_at": user.created_at,
        "balance": user.balance,
        "lifetime_points": user.lifetime_points,
        "level": level_for(user.lifetime_points),
        "streak": current_streak(user),
        "expiring": {
            "points": points,
            "within_days": EXPIRY_WARNING_DAYS,
            "next_expiry_at": next_expiry,
        },
    }


def update_me(user, changes):
    """Change the caller's display name or village."""
    if "community_id" in changes and changes["community_id"] is not None:
        check_community(changes["community_id"])
    if "display_name" in changes:
        user.display_name = changes["display_name"].strip()
    if "community_id" in changes:
        user.community_id = changes["community_id"]
    db.session.commit()
    return describe(user)
