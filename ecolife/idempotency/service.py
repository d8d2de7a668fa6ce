"""Idempotency-Key: replay the first response of a points-moving request, write nothing twice.

The view decorator ``idempotent`` answers replays and in-flight duplicates before any
work starts. The stored response is written in the same transaction as the points
(``IdemContext.store``), and re-checked after the user's row is locked
(``IdemContext.recheck``, called by ``points.service.lock_user`` and by the scan, which
takes the same lock in its first statement): every request that moves a user's points
takes that lock first, so two requests with one key can never both do the work, with or
without Redis.
"""
import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import wraps

from flask import Response, g, jsonify, request
from flask_smorest import Blueprint
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from ecolife.auth.decorators import current_user_id
from ecolife.errors import Conflict, DomainError, error_body
from ecolife.extensions import db, execute_core, redis_store
from ecolife.idempotency.models import IdempotencyKey
from ecolife.timeutil import utcnow

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
IN_FLIGHT_SECONDS = 30
# Refusals whose answer is not kept under the key (see _remember_refusal).
NOT_KEPT = ("forbidden", "validation_error")
HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Retry-safe key: the same key and body replay the first response (a "
    "refusal included); another body is 422 idempotency_key_reused; while the first runs, "
    "409 idempotency_conflict. Keys are kept at least 24 hours. A request refused before any "
    "work began (401, 403 `forbidden`, 422 `validation_error`) keeps nothing: it may be "
    "retried as sent or corrected. Any other refusal is the first response: a 429's replay "
    "repeats its Retry-After, which is when a new request (with a new key) may succeed.",
}


# The 422 of an operation that takes an Idempotency-Key, for its document.
UNPROCESSABLE = (
    "`validation_error` (the body, or an Idempotency-Key that is not 1-255 printable "
    "characters) or `idempotency_key_reused` (this key came with another request)"
)


class KeyReused(DomainError):
    status, error = 422, "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request."


class InFlight(Conflict):
    error, message = "idempotency_conflict", "A request with this Idempotency-Key is running."


class Replay(Exception):
    """Raised inside a service when the key turns out to be done already."""

    def __init__(self, row):
        super().__init__(row.key)
        self.row = row


@dataclass
class IdemContext:
    user_id: int
    key: str
    endpoint: str
    request_hash: str
    stored: bool = False  # a response is written under this key (the caller commits it)

    def recheck(self):
        """After the user's lock: raise Replay if another request stored this key."""
        row = _lookup(self.user_id, self.key)
        if row is not None:
            raise Replay(row)

    def store(self, status, body):
        """Keep this response for replay, in the caller's transaction (it commits)."""
        execute_core(_insert_key(), {
            "user_id": self.user_id, "key": self.key, "endpoint": self.endpoint,
            "request_hash": self.request_hash, "response_status": status,
            # Serialised as the live response is (jsonify): a replay is the same bytes.
            "response_body": jsonify(body).get_data(as_text=True),
            "created_at": utcnow(),
        })
        self.stored = True


def current():
    """The IdemContext of this request, or None when no key was sent."""
    return g.get("idempotency")


def idempotent(view):
    """View decorator (inside ``login_required``) honouring the Idempotency-Key header."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        # g lives on the app context, which several requests can share (tests, scripts):
        # a request without a key must never see the previous request's.
        g.pop("idempotency", None)
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise DomainError(
                "Idempotency-Key must be 1-255 printable characters.",
                status=422,
                error="validation_error",
                errors={HEADER: ["Must be 1-255 printable characters."]},
            )
        context = IdemContext(current_user_id(), key, request.endpoint or "", _fingerprint())
        row = _lookup(context.user_id, key)
        if row is not None:
            return _replay(row, context)
        marker = redis_store.key("idem", context.user_id, hashlib.sha256(key.encode()).hexdigest())
        if not _mark(marker):
            # Taken: by a twin still running, or by one that finished since the first look
            # (a finished request leaves its marker to expire).
            row = _lookup(context.user_id, key)
            if row is not None:
                return _replay(row, context)
            raise InFlight()
        g.idempotency = context
        done = False
        try:
            response = view(*args, **kwargs)
            # Its stored answer committed (no transaction left open): from now on the row
            # answers every retry, and the marker can expire on its own (a round trip saved).
            done = context.stored and not db.session().in_transaction()
            return response
        except Replay as replay:
            db.session.rollback()
            return _replay(replay.row, context)
        except IntegrityError:
            # A concurrent twin committed first; if it stored this key, answer as it did.
            db.session.rollback()
            row = _lookup(context.user_id, key)
            if row is None:
                raise
            return _replay(row, context)
        except DomainError as refusal:
            # A refusal is the first response too: a retry gets the same answer, and the
            # key cannot be reused for another body. Nothing else of the request is kept.
            db.session.rollback()
            twin = _remember_refusal(context, refusal)
            if twin is not None:
                return _replay(twin, context)
            raise
        finally:
            if not done:
                _unmark(marker)

    return Blueprint.doc(parameters=[HEADER_DOC])(wrapper)


def _remember_refusal(context, refusal):
    """Store a refused request's answer under its key, in a transaction of its own.

    Returns the stored answer of a twin that finished first (it stands instead), else None.
    Not kept, as no work began (Stripe's rule too): a refusal about the caller (401, a role's
    403 ``forbidden``), a ``validation_error``, and a server failure; a retry is judged anew.
    """
    from ecolife.points.service import lock_user  # points moves call back into this module

    if refusal.status >= 500 or refusal.status == 401 or refusal.error in NOT_KEPT:
        return None
    try:
        # The caller's row: the work's own lock when they move their own points; for an
        # operator's adjustment the unique (user, key) constraint stands behind it.
        caller = lock_user(context.user_id, context)
    except Replay as replay:
        db.session.rollback()
        return replay.row
    if caller is None:  # the caller's account is gone: no key can belong to it
        db.session.rollback()
        return None
    context.store(refusal.status, error_body(refusal.status, refusal.error, refusal.message,
                                             **refusal.extra))
    db.session.commit()
    return None


def _fingerprint():
    body = request.get_data(cache=True)
    try:  # the same JSON with other spacing or key order is the same request
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _lookup(user_id, key):
    """The stored answer under (user, key): a row with key, request_hash, response_status
    and response_body; None if there is none."""
    return execute_core(_lookup_query(), {"user_id": user_id, "key": key}).one_or_none()


@functools.cache
def _lookup_query():
    # Core, built once: asked once or twice by every keyed request.
    keys = IdempotencyKey.__table__.c
    return (select(keys.key, keys.request_hash, keys.response_status, keys.response_body)
            .where(keys.user_id == bindparam("user_id"), keys.key == bindparam("key")))


@functools.cache
def _insert_key():
    return insert(IdempotencyKey.__table__)


def _replay(row, context):
    if row.request_hash != context.request_hash:
        raise KeyReused()
    response = Response(row.response_body, status=row.response_status, mimetype="application/json")
    if row.response_status == 429:  # the refusal's wait, as its header said the first time
        retry_after = json.loads(row.response_body).get("retry_after")
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _mark(marker):
    """Claim the in-flight marker; without Redis, the database lock alone decides."""
    try:
        return bool(redis_store.client.set(marker, 1, nx=True, ex=IN_FLIGHT_SECONDS))
    except Exception:  # Redis down: correctness does not depend on it
        log.warning("redis unavailable for idempotency marker")
        return True


def _unmark(marker):
    try:
        redis_store.client.delete(marker)
    except Exception:
        pass


def purge_older_than(cutoff):
    """Delete keys created before ``cutoff``; returns how many."""
    deleted = db.session.execute(
        IdempotencyKey.__table__.delete().where(IdempotencyKey.created_at < cutoff)
    ).rowcount
    db.session.commit()
    return deleted
