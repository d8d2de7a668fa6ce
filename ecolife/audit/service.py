"""Recording operator decisions in the audit log."""
import json

from sqlalchemy.exc import IntegrityError

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db


def locked(target):
    """``target`` read again under a row lock held to the end of the transaction.

    Every audited change of an existing row starts here: what it decides on, and the "before"
    its entry keeps, is then the row as it is, not as it was before another operator's change
    committed (two approvals logged as pending -> approved, two archives of one reward).
    FOR NO KEY UPDATE, like ``points.service.lock_user``.
    """
    db.session.refresh(target, with_for_update={"key_share": True})
    return target


def apply_changes(actor, action, target, changes):
    """Set the fields of ``changes`` that differ on ``target`` and audit them, before and after.

    Returns the fields that changed; when none did, nothing is written and nothing logged.
    """
    changed = {field: value for field, value in changes.items() if getattr(target, field) != value}
    if changed:
        before = {field: getattr(target, field) for field in changed}
        for field, value in changed.items():
            setattr(target, field, value)
        record(actor, action, target, {"before": before, "after": changed})
    return changed


def add_created(actor, action, target, details, taken=None):
    """Add a new ``target`` to the session and audit its creation (the flush gives its id).

    ``taken``: the refusal to raise when the flush breaks a unique constraint, i.e. when a
    concurrent request created the same thing after the caller checked (not a bare 409
    ``conflict``).
    """
    db.session.add(target)
    try:
        db.session.flush()
    except IntegrityError:
        if taken is None:
            raise
        db.session.rollback()
        raise taken() from None
    record(actor, action, target, details)
    return target


def record(actor, action, target, details=None):
    """Add an audit entry to the caller's transaction (it commits with the change)."""
    db.session.add(
        AuditEntry(
            actor_id=actor.id if actor is not None else None,
            action=action,
            target_type=type(target).__tablename__,
            target_id=str(target.id),
            # Round-trip through JSON so dates and the like are stored as text.
            details=json.loads(json.dumps(details or {}, default=str)),
        )
    )
