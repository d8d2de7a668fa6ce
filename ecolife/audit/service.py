"""Recording operator decisions in the audit log."""
import json

from ecolife.audit.models import AuditEntry
from ecolife.extensions import db


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
