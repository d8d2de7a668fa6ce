"""QR codes for a shop's counter: create, list, revoke, the URL each one shows now, and the
one way a token from a camera is turned back into its code (``resolve_token``)."""
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from ecolife.actions.models import Action
from ecolife.actions.service import find_action
from ecolife.audit.service import add_created, locked, record as audit
from ecolife.codes import tokens
from ecolife.codes.keys import qr_keys, signing_kid
from ecolife.codes.models import QrCode
from ecolife.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from ecolife.extensions import db
from ecolife.fields import MAX_ID
from ecolife.pagination import paginate
from ecolife.shops.models import Shop
from ecolife.shops.service import managed_shop
from ecolife.timeutil import utcnow

class UnknownCode(NotFound):
    error, message = "unknown_code", "No such QR code."


class CodeRevoked(Gone):
    error, message = "code_revoked", "This QR code has been revoked."


class CodeExpired(Gone):
    error, message = "code_expired", "This QR code's time window has passed; scan the current one."


class CodeKeyRetired(Gone):
    error, message = "code_key_retired", "The key that signed this code is no longer configured."


# 403 wherever they are met (making a code, scanning one), as API.md defines shop_not_active.
class ShopNotActive(Forbidden):
    error, message = "shop_not_active", "This shop is not taking part right now."


class ActionNotActive(Forbidden):
    error, message = "action_not_active", "This earning rule is switched off."


class NotPrintable(Conflict):
    error, message = "not_printable", "A rotating code changes every 30 s: show it on a screen."


def current_token(code, now=None):
    """The token a code shows at ``now``: fixed for static codes, the time step's for rotating."""
    if code.mode == "static":
        keys = qr_keys()
        if code.kid not in keys:
            raise CodeKeyRetired()
        return tokens.sign_static(code.id, keys[code.kid], code.kid)
    counter = tokens.counter_at((now or utcnow()).timestamp())
    return tokens.sign_rotating(code.id, code.secret, counter)


def code_url(code, now=None):
    """``{PUBLIC_BASE_URL}/s/{token}``: exactly the text inside the code's QR at ``now``."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/s/{current_token(code, now)}"


def current_window(code, now=None):
    """{url, expires_at, refresh_at} of what the code shows at ``now`` (times None if static)."""
    now = now or utcnow()
    if code.mode == "static":
        return {"url": code_url(code), "expires_at": None, "refresh_at": None}
    counter = tokens.counter_at(now.timestamp())
    return {
        "url": code_url(code, now),
        "expires_at": datetime.fromtimestamp(tokens.expires_at(counter), UTC),
        "refresh_at": datetime.fromtimestamp((counter + 1) * tokens.STEP_SECONDS, UTC),
    }


def describe_code(code, now=None):
    """A code as CodeOut shows it; a revoked or retired-key code has no url."""
    window = {"url": None, "expires_at": None}
    if code.revoked_at is None and (code.mode == "rotating" or code.kid in qr_keys()):
        window = current_window(code, now)
    return {
        "id": code.id,
        "shop_id": code.shop_id,
        "action": db.session.get(Action, code.action_id).slug,
        "mode": code.mode,
        "url": window["url"],
        "expires_at": window["expires_at"],
        "active": code.active,
        "created_at": code.created_at,
        "revoked_at": code.revoked_at,
    }


def create_code(user, shop_id, data):
    """The owner of an approved shop, or an operator, makes a code for one of its actions."""
    shop = managed_shop(user, shop_id)
    if shop.status != "approved":
        raise ShopNotActive(f"The shop is {shop.status}: codes can only be made once approved.")
    action = find_action(data["action"])
    if action is None:
        raise Invalid("action", "No such earning rule.")
    if not action.active:
        raise ActionNotActive()
    code = QrCode(shop_id=shop.id, action_id=action.id, mode=data["mode"], created_by=user.id)
    if code.mode == "static":
        code.kid = signing_kid()
    else:
        code.secret = tokens.new_code_secret()
    add_created(user, "code.create", code,
                {"shop_id": shop.id, "action": action.slug, "mode": code.mode})
    db.session.commit()
    return describe_code(code)


def list_codes(user, shop_id, filters, pagination_parameters):
    """One page of a managed shop's codes, oldest first."""
    shop = managed_shop(user, shop_id)
    query = select(QrCode).where(QrCode.shop_id == shop.id).order_by(QrCode.id)
    if filters.get("active") is not None:
        query = query.where(
            QrCode.revoked_at.is_(None) if filters["active"] else QrCode.revoked_at.is_not(None)
        )
    now = utcnow()
    return [describe_code(code, now) for code in paginate(query, pagination_parameters)]


def managed_code(user, shop_id, code_id):
    """A code of a shop ``user`` manages (another owner's shop or code: 404)."""
    shop = managed_shop(user, shop_id)
    code = db.session.get(QrCode, code_id)
    if code is None or code.shop_id != shop.id:
        raise UnknownCode()
    return code


def get_code(user, shop_id, code_id):
    return describe_code(managed_code(user, shop_id, code_id))


def revoke_code(user, shop_id, code_id):
    """Revoke a code for good. Revoking a revoked code changes nothing (DELETE is idempotent)."""
    code = managed_code(user, shop_id, code_id)
    if locked(code).revoked_at is None:
        code.revoked_at = utcnow()
        audit(user, "code.revoke", code, {"shop_id": code.shop_id})
        db.session.commit()


def show_code(user, shop_id, code_id, now=None):
    """What a live code shows now, for its screen or its images: (code, current_window)."""
    code = managed_code(user, shop_id, code_id)
    if code.revoked_at is not None:
        raise CodeRevoked()
    return code, current_window(code, now)


def poster(user, shop_id, code_id):
    """What the printable poster of a static code says: shop, action, points and url."""
    code, window = show_code(user, shop_id, code_id)
    if code.mode != "static":
        raise NotPrintable()
    return _page_context(code) | {"url": window["url"]}


def _page_context(code):
    shop = db.session.get(Shop, code.shop_id)
    action = db.session.get(Action, code.action_id)
    return {
        "shop_name": shop.name,
        "shop_status_active": shop.status == "approved",
        "action_name": action.name,
        "action_name_th": action.name_th,
        "points": action.points,
    }


def resolve_token(token, now=None):
    """The live code behind a token from a camera.

    UnknownCode for anything malformed, forged, unknown or of the wrong kind; CodeRevoked;
    CodeExpired for a genuine rotating token past its window. The shop's status is the
    caller's business (a suspended shop's codes resolve, but earn nothing).
    """
    parsed = parse_token(token)
    return check_code(parsed, db.session.get(QrCode, parsed.code_id), now)


def parse_token(token):
    """resolve_token's checks before the database: UnknownCode for a malformed token, a
    forged static one (a forged sticker costs no query) or an id no column holds."""
    try:
        parsed = tokens.parse(token)
        if parsed.kind == "static":
            tokens.verify_static(parsed, qr_keys())
    except tokens.InvalidToken:
        raise UnknownCode() from None
    # Tokens leave room for 48-bit ids, qr_codes.id holds 32 bits: a larger one is unknown.
    if parsed.code_id > MAX_ID:
        raise UnknownCode()
    return parsed


def check_code(parsed, code, now=None):
    """resolve_token's checks of the code row ``parse_token(...)`` named (None: no such row);
    for callers that load the row together with others. Returns the code."""
    if code is None or code.mode != parsed.kind:
        raise UnknownCode()
    # A sticker verifies only under the key that signed it: whoever holds an old key (one
    # kept configured for old stickers, or rotated out because it leaked) forges nothing newer.
    if parsed.kind == "static" and parsed.kid != code.kid:
        raise UnknownCode()
    if parsed.kind == "rotating":
        try:
            tokens.verify_rotating(parsed, code.secret, (now or utcnow()).timestamp())
        except tokens.InvalidToken:
            raise UnknownCode() from None
        except tokens.TokenExpired:
            raise (CodeRevoked() if code.revoked_at is not None else CodeExpired()) from None
    if code.revoked_at is not None:
        raise CodeRevoked()
    return code


def landing(token, now=None):
    """What the /s/{token} page shows: the shop, the action, its points."""
    return _page_context(resolve_token(token, now))
