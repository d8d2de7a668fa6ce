"""A community's stats, rolled up from the villages below it.

Members are the residents whose village is in the community's subtree; a member is active
when they had a credited scan in the last ``ACTIVE_DAYS`` local days (``streak_last_day``,
the last day with a credited scan, is on the user row, so this costs no scan query).
A community without children (a village) is clean when its participation rate reaches
``CLEAN_COMMUNITY_THRESHOLD``; one with children when every child is clean: a tambon when all
its villages are, a district when all its tambons are, then the province.
"""
from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, func, select

from ecolife.communities.service import UnknownCommunity
from ecolife.extensions import db
from ecolife.gamification.tree import load_tree
from ecolife.impact.service import impact_by_community
from ecolife.timeutil import local_day, utcnow
from ecolife.users.models import User

ACTIVE_DAYS = 30


def community_stats(community_id, today=None):
    """Members, participation, points, impact and cleanliness of a community and its subtree."""
    tree = load_tree()
    if community_id not in tree:
        raise UnknownCommunity()
    ids = tree.subtree(community_id)
    today = today or local_day(utcnow())
    own = _members_by_community(ids, since=today - timedelta(days=ACTIVE_DAYS - 1))
    impact = impact_by_community(ids)
    threshold = current_app.config["CLEAN_COMMUNITY_THRESHOLD"]

    rolled = {}
    for cid in reversed(ids):  # children before parents
        members, active, points = own.get(cid, (0, 0, 0))
        units = Counter(impact.get(cid, {}))
        children = [rolled[child] for child in tree.children.get(cid, ())]
        for child in children:
            members += child["members"]
            active += child["active_members"]
            points += child["points"]
            units.update(child["impact"])
        rate = active / members if members else 0.0
        clean = all(c["clean"] for c in children) if children else (
            members > 0 and rate >= threshold
        )
        node = tree.nodes[cid]
        rolled[cid] = {
            "community_id": cid,
            "name": node.name,
            "kind": node.kind,
            "members": members,
            "active_members": active,
            "participation_rate": rate,
            "points": points,
            "impact": dict(sorted(units.items())),
            "clean": clean,
            "clean_threshold": threshold,
            "children_count": len(children),
            "children_clean": sum(c["clean"] for c in children),
            "active_days": ACTIVE_DAYS,
        }
    return rolled[community_id]


def _members_by_community(ids, since):
    """{community_id: (members, active members, lifetime points)} of residents, one query."""
    rows = db.session.execute(
        select(
            User.community_id,
            func.count(),
            func.sum(case((User.streak_last_day >= since, 1), else_=0)),
            func.coalesce(func.sum(User.lifetime_points), 0),
        )
        .where(User.role == "resident", User.community_id.in_(ids))
        .group_by(User.community_id)
    )
    return {cid: (int(m), int(a or 0), int(p)) for cid, m, a, p in rows}
