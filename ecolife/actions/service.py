"""Earning rules. Scans copy points and impact when they are made, so a change here never
rewrites what was already credited."""
from sqlalchemy import select

from ecolife.actions.models import Action
from ecolife.audit.service import add_created, apply_changes, locked
from ecolife.bodies import storable
from ecolife.errors import Conflict, NotFound
from ecolife.extensions import db


class UnknownAction(NotFound):
    error, message = "unknown_action", "No such earning rule."


class ActionExists(Conflict):
    error, message = "action_exists", "An earning rule with this slug already exists."


def find_action(slug):
    """The rule named ``slug``, or None."""
    if not storable(slug):  # a path may carry what no column holds (PostgreSQL would refuse it)
        return None
    return db.session.scalar(select(Action).where(Action.slug == slug))


def get_action(slug):
    action = find_action(slug)
    if action is None:
        raise UnknownAction()
    return action


def list_query(active=None):
    query = select(Action).order_by(Action.id)
    if active is not None:
        query = query.where(Action.active == active)
    return query


def create_action(operator, data):
    """An operator adds an earning rule."""
    if find_action(data["slug"]) is not None:
        raise ActionExists()
    action = Action(**data)
    add_created(operator, "action.create", action, data, taken=ActionExists)
    db.session.commit()
    return action


def update_action(operator, slug, changes):
    """An operator changes a rule; past scans keep the points they were credited."""
    action = locked(get_action(slug))
    apply_changes(operator, "action.update", action, changes)
    db.session.commit()
    return action
