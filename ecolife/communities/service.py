"""The community hierarchy: province > district > tambon > village."""
from sqlalchemy import select

from ecolife.audit.service import add_created, apply_changes, locked
from ecolife.communities.models import KINDS, Community
from ecolife.errors import Invalid, NotFound
from ecolife.extensions import db


class UnknownCommunity(NotFound):
    error, message = "unknown_community", "No such community."


def get_community(community_id):
    community = db.session.get(Community, community_id)
    if community is None:
        raise UnknownCommunity()
    return community


def list_query(kind=None, parent_id=None):
    query = select(Community).order_by(Community.id)
    if kind:
        query = query.where(Community.kind == kind)
    if parent_id is not None:
        query = query.where(Community.parent_id == parent_id)
    return query


def _check_parent(kind, parent_id):
    """A village sits under a tambon, a tambon under a district, a district under a province."""
    level = KINDS.index(kind)
    if parent_id is None:
        if level != 0:
            raise Invalid("parent_id", f"A {kind} needs a parent {KINDS[level - 1]}.")
        return
    parent = db.session.get(Community, parent_id)
    if parent is None:
        raise Invalid("parent_id", "No such community.")
    if level == 0 or parent.kind != KINDS[level - 1]:
        raise Invalid("parent_id", f"A {kind} cannot sit under a {parent.kind}.")


def create_community(operator, data):
    """An operator adds a community under its parent."""
    _check_parent(data["kind"], data.get("parent_id"))
    community = Community(**data)
    add_created(operator, "community.create", community, data)
    db.session.commit()
    return community


def update_community(operator, community_id, changes):
    """An operator renames a community or moves it under another parent."""
    community = locked(get_community(community_id))
    if "parent_id" in changes:
        _check_parent(community.kind, changes["parent_id"])
    apply_changes(operator, "community.update", community, changes)
    db.session.commit()
    return community
