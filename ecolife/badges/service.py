"""The badge catalogue, operators' changes to it, and awarding badges as scans earn them."""
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import joinedload

from ecolife.audit.service import record as audit
from ecolife.badges import criteria as criteria_rules
from ecolife.badges.models import Badge, UserBadge
from ecolife.errors import Conflict, NotFound
from ecolife.extensions import db
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
    if db.session.scalar(select(Badge.id).where(Badge.slug == data["slug"])) is not None:
        raise BadgeExists()
    badge = Badge(**data)
    db.session.add(badge)
    db.session.flush()
    audit(operator, "badge.create", badge, data)
    db.session.commit()
    return badge


def update_badge(operator, slug, changes):
    """An operator renames, re-describes, re-targets or switches off a badge.

    Badges already awarded stay awarded whatever their criteria become.
    """
    badge = get_badge(operator, slug)
    for field, value in changes.items():
        setattr(badge, field, value)
    audit(operator, "badge.update", badge, changes)
    db.session.commit()
    return badge


def award_due_badges(user, scan, now):
    """Award every active badge ``user`` now qualifies for and lacks; returns [{slug, name}].

    Inside the scan's transaction with the user's row locked: concurrent scans of one user
    run one at a time, so each sees the badges the previous one awarded and none is awarded
    twice (uq_user_badges_user_badge stands behind that).
    """
    owned = select(UserBadge.badge_id).where(UserBadge.user_id == user.id)
    pending = db.session.scalars(
        select(Badge).where(Badge.active.is_(True), Badge.id.not_in(owned)).order_by(Badge.id)
    ).all()
    if not pending:
        return []
    counters = _counters(user, {criteria_rules.counter_of(b.criteria) for b in pending})
    earned = [b for b in pending if criteria_rules.is_met(b.criteria, counters)]
    db.session.add_all(
        UserBadge(user_id=user.id, badge_id=b.id, scan_id=scan.id, awarded_at=now) for b in earned
    )
    return [{"slug": b.slug, "name": b.name} for b in earned]


def _counters(user, needed):
    """The counters the pending badges compare with, from one query over the user's scans."""
    counters = {"streak_days": user.streak_current}
    columns = []
    if "scan_count" in needed:
        columns.append(func.count(Scan.id).label("scan_count"))
    if "distinct_shops" in needed:
        columns.append(func.count(distinct(Scan.shop_id)).label("distinct_shops"))
    units = sorted(c[1] for c in needed if isinstance(c, tuple))
    for i, unit in enumerate(units):
        amount = case((Scan.impact_unit == unit, Scan.impact_amount), else_=0)
        columns.append(func.coalesce(func.sum(amount), 0).label(f"unit_{i}"))
    if not columns:
        return counters
    # The scan being credited is flushed already, so it counts.
    row = db.session.execute(select(*columns).where(Scan.user_id == user.id)).one()._mapping
    for name in ("scan_count", "distinct_shops"):
        if name in row:
            counters[name] = int(row[name])
    for i, unit in enumerate(units):
        counters[("impact", unit)] = int(row[f"unit_{i}"])
    return counters
