"""The badge catalogue, operators' changes to it, and awarding badges as scans earn them."""
import functools
import time
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, case, distinct, event, exists, func, insert, select
from sqlalchemy.orm import Session, joinedload, object_session

from ecolife.audit.service import add_created, apply_changes, locked
from ecolife.badges import criteria as criteria_rules
from ecolife.badges.models import Badge, UserBadge
from ecolife.bodies import storable
from ecolife.errors import Conflict, NotFound
from ecolife.extensions import db, execute_core
from ecolife.scans.models import Scan


class UnknownBadge(NotFound):
    error, message = "unknown_badge", "No such badge."


class BadgeExists(Conflict):
    error, message = "badge_exists", "A badge with this slug already exists."


def _visible(viewer):
    # Operators manage switched-off badges too; everyone else sees the live catalogue.
    if viewer is not None and viewer.role == "operator":
        return select(Badge)
    return select(Badge).where(Badge.active.is_(True))


def catalogue_query(viewer):
    """The badges ``viewer`` (None: anonymous) may see, in catalogue order."""
    return _visible(viewer).order_by(Badge.id)


def get_badge(viewer, slug):
    # A path may carry what no column holds: PostgreSQL would refuse it, not find nothing.
    badge = None
    if storable(slug):
        badge = db.session.scalar(_visible(viewer).where(Badge.slug == slug))
    if badge is None:
        raise UnknownBadge()
    return badge


def my_badges_query(user):
    """The user's badges, newest first."""
    return (
        select(UserBadge)
        .where(UserBadge.user_id == user.id)
        .options(joinedload(UserBadge.badge))
        .order_by(UserBadge.awarded_at.desc(), UserBadge.id.desc())
    )


def create_badge(operator, data):
    """An operator adds a badge; it is awarded from the next qualifying scan on."""
    if _slug_taken(data["slug"]):
        raise BadgeExists()
    badge = Badge(**data)
    add_created(operator, "badge.create", badge, data, taken=BadgeExists)
    db.session.commit()
    return badge


def _slug_taken(slug):
    return db.session.scalar(select(Badge.id).where(Badge.slug == slug)) is not None


def update_badge(operator, slug, changes):
    """An operator renames, re-describes, re-targets or switches off a badge.

    Badges already awarded stay awarded whatever their criteria become.
    """
    badge = locked(get_badge(operator, slug))
    apply_changes(operator, "badge.update", badge, changes)
    db.session.commit()
    return badge


def award_due_badges(user, scan, now):
    """Award every active badge ``user`` now qualifies for and lacks; returns [{slug, name}].

    Inside the scan's transaction with the user's row locked: concurrent scans of one user
    run one at a time, so each sees the badges the previous one awarded and none is awarded
    twice (uq_user_badges_user_badge stands behind that). One query, whatever the catalogue:
    which badges the user owns, and every counter the catalogue compares with.
    """
    catalogue = _active_catalogue()
    if not catalogue.badges:
        return []
    # The scan being credited is inserted already, so it counts.
    row = execute_core(catalogue.query, {"user_id": user.id}).one()
    owned, counters = row[:len(catalogue.badges)], {"streak_days": user.streak_current}
    for counter, value in zip(catalogue.counters, row[len(catalogue.badges):]):
        counters[counter] = int(value or 0)
    earned = [badge for badge, has in zip(catalogue.badges, owned)
              if not has and criteria_rules.is_met(badge.criteria, counters)]
    if earned:
        execute_core(_insert_awards(), [
            {"user_id": user.id, "badge_id": b.id, "scan_id": scan.id, "awarded_at": now}
            for b in earned
        ])
    return [{"slug": b.slug, "name": b.name} for b in earned]


@functools.cache
def _insert_awards():
    return insert(UserBadge.__table__)


class _Catalogue(NamedTuple):
    badges: tuple  # CachedBadge, in catalogue order
    counters: tuple  # what the query's columns after the "owned" flags hold
    query: object


class CachedBadge(NamedTuple):
    id: int
    slug: str
    name: str
    criteria: dict


# The active catalogue and the query built for it, per app (per database): every scan needs
# them and operators change badges rarely. Writes through the ORM in this process drop them
# at once (the events below); other processes see a change within CATALOGUE_TTL_SECONDS.
CATALOGUE_TTL_SECONDS = 30
_generation = [0]  # bumped by every ORM write of a badge


def _active_catalogue():
    cached = current_app.extensions.get("ecolife_badges")
    if (cached is None or cached[2] != _generation[0]
            or time.monotonic() - cached[1] > CATALOGUE_TTL_SECONDS):
        generation = _generation[0]
        badges = tuple(CachedBadge(*row) for row in db.session.execute(
            select(Badge.id, Badge.slug, Badge.name, Badge.criteria)
            .where(Badge.active.is_(True)).order_by(Badge.id)
        ))
        cached = (_build(badges), time.monotonic(), generation)
        current_app.extensions["ecolife_badges"] = cached
    return cached[0]


@event.listens_for(Badge, "after_insert")
@event.listens_for(Badge, "after_update")
@event.listens_for(Badge, "after_delete")
def _badge_written(_mapper, _connection, badge):
    """Note the write; the catalogue is forgotten once it commits (see below)."""
    session = object_session(badge)
    if session is not None:
        session.info["badges_written"] = True


@event.listens_for(Session, "after_commit")
def _forget_catalogue(session):
    """Make every app in this process reload the catalogue on its next scan.

    After the commit, not at the flush: a scan in another thread that reloads between the
    two would otherwise cache the old rows as if they were new.
    """
    if session.info.pop("badges_written", False):
        _generation[0] += 1


@event.listens_for(Session, "after_rollback")
def _drop_written_mark(session):
    session.info.pop("badges_written", None)


def _build(badges):
    """The one statement of award_due_badges: an "owned" flag per badge, then the counters.

    Built on the tables, not the mapped classes: a Core statement skips the ORM's
    per-execution work, and every scan runs it.
    """
    user_id, owned_badges, scans = bindparam("user_id"), UserBadge.__table__.c, Scan.__table__.c
    owned = [
        exists().where(owned_badges.user_id == user_id, owned_badges.badge_id == badge.id)
        for badge in badges
    ]
    needed = {criteria_rules.counter_of(b.criteria) for b in badges} - {None, "streak_days"}
    counters, columns = [], []
    if "scan_count" in needed:
        counters.append("scan_count")
        columns.append(func.count(scans.id))
    if "distinct_shops" in needed:
        counters.append("distinct_shops")
        columns.append(func.count(distinct(scans.shop_id)))
    for unit in sorted(c[1] for c in needed if isinstance(c, tuple)):
        counters.append(("impact", unit))
        columns.append(func.sum(case((scans.impact_unit == unit, scans.impact_amount), else_=0)))
    if columns:
        counted = select(*columns).where(scans.user_id == user_id).subquery()
        query = select(*owned, *counted.c)
    else:
        query = select(*owned)
    return _Catalogue(badges, tuple(counters), query)
