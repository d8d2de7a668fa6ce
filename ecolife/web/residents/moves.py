"""The residents' points-moving calls (collect, redeem, cancel), each made once however often
it is sent.

A page that moves points renders a random one-time key into its form; the call runs under
that key as the API's Idempotency-Key would, so a double tap, or a retry after an answer lost
on a slow network, replays the first outcome instead of crediting (or spending) twice. The
services take the key as an ``IdemContext`` (ecolife/idempotency/service.py): this module is
the one place the pages touch it.
"""
import hashlib
import json
import secrets

from ecolife.errors import DomainError
from ecolife.extensions import db
from ecolife.idempotency.service import IdemContext, KeyReused, Replay
from ecolife.rewards import redemptions
from ecolife.scans.service import record_scan

KEY_PREFIX = "web:"  # a page's keys never meet the API clients' own


def new_key():
    """A one-time key for a form (32 hex digits)."""
    return secrets.token_hex(16)


def collect(user_id, token, key, location):
    """Credit the resident for the sticker ``token`` (``location``: {latitude, longitude} or
    {}); returns the scan's result as ``POST /scans`` answers it. Through ``record_scan``, the
    API's own path: every rule (cooldown, daily limit, geofence...) is its."""
    # The key names the tap, not where the phone was: a second tap whose location moved a
    # metre is still the same claim.
    context = _context(user_id, key, "claim", token)
    try:
        return record_scan(user_id, {"token": token, **location}, context)
    except Replay as replay:
        return _replayed(replay, context)


def redeem(user, reward_id, key):
    """Spend points on a reward; returns the new voucher's id."""
    context = _context(user.id, key, "redeem", reward_id)
    try:
        return redemptions.redeem_reward(user, reward_id, context).id
    except Replay as replay:
        return _replayed(replay, context)["id"]


def cancel(user, redemption_id, key):
    """Cancel the resident's voucher: points and stock come back."""
    context = _context(user.id, key, "cancel", redemption_id)
    try:
        redemptions.cancel_redemption(user, redemption_id, context)
    except Replay as replay:
        _replayed(replay, context)


def _context(user_id, key, what, subject):
    fingerprint = hashlib.sha256(f"web.{what}\n{subject}".encode()).hexdigest()
    return IdemContext(user_id, KEY_PREFIX + key, f"web.{what}", fingerprint)


def _replayed(replay, context):
    """The stored first outcome of this key: its body, or its refusal raised again."""
    db.session.rollback()
    row = replay.row
    if row.request_hash != context.request_hash:
        raise KeyReused()
    body = json.loads(row.response_body)
    if row.response_status >= 400:
        raise DomainError(body["message"], error=body["error"], status=row.response_status)
    return body
