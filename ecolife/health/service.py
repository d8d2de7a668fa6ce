"""Readiness checks: the database and Redis each answer a trivial query."""
import marshmallow as ma
from sqlalchemy import text

from ecolife.errors import DomainError
from ecolife.extensions import db, redis_store


class HealthOut(ma.Schema):
    status = ma.fields.String(required=True)


class ReadyOut(ma.Schema):
    status = ma.fields.String(required=True)
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class NotReady(DomainError):
    status, error, message = 503, "not_ready", "A dependency is not answering."


def check_ready():
    """Ping both stores; raise NotReady listing the ones that failed."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        redis_store.client.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        raise NotReady(f"not ready: {', '.join(failed)}", checks=checks)
    return {"status": "ok", "checks": checks}
