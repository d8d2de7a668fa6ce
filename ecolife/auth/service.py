"""Registering, logging in, refreshing and logging out."""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from ecolife.auth.models import RefreshToken
from ecolife.auth.passwords import hash_password, needs_rehash, verify_password
from ecolife.auth.schemas import normalize_phone
from ecolife.auth.tokens import hash_refresh_token, issue_access_token, new_refresh_token
from ecolife.errors import Conflict, DomainError, InvalidToken
from ecolife.extensions import db
from ecolife.timeutil import utcnow
from ecolife.users.models import User
from ecolife.users.service import check_community


class InvalidCredentials(DomainError):
    status, error, message = 401, "invalid_credentials", "Wrong login or password."


class AlreadyRegistered(Conflict):
    error, message = "already_registered", "That email or phone is already registered."


def normalize_login(login: str) -> str:
    """Emails compare case-insensitively; phones as E.164 (what is neither stays as sent,
    and matches no account)."""
    login = login.strip()
    return login.lower() if "@" in login else (normalize_phone(login) or login)


def create_user(*, password, display_name, role, email=None, phone=None, community_id=None):
    """A new account (not committed); AlreadyRegistered if its email or phone is taken."""
    email = email.strip().lower() if email else None
    phone = normalize_phone(phone) if phone else None
    if community_id is not None:
        check_community(community_id)
    logins = [column == value for column, value in ((User.email, email), (User.phone, phone)) if value]
    if db.session.scalar(select(User.id).where(or_(*logins))):
        raise AlreadyRegistered()
    user = User(
        email=email,
        phone=phone,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        role=role,
        community_id=community_id,
    )
    db.session.add(user)
    return user


def register(**fields):
    """Register a resident or shop owner."""
    user = create_user(**fields)
    try:
        db.session.commit()
    except IntegrityError as exc:  # a concurrent registration took the login first
        db.session.rollback()
        raise AlreadyRegistered() from exc
    return user


def _account(login):
    """The user a login names (email or phone, however typed), or None."""
    login = normalize_login(login)
    column = User.email if "@" in login else User.phone
    return db.session.scalar(select(User).where(column == login))


def login_limit_key(login):
    """What the per-account login limit counts: the account a login names, so its email and
    its phone share one allowance; what was typed when it names none."""
    user = _account(login)
    return f"user:{user.id}" if user is not None else f"login:{normalize_login(login)}"


def authenticate(login, password):
    """The user ``login`` and ``password`` name, or InvalidCredentials (not committed: a hash
    made with old parameters is renewed in the caller's transaction)."""
    user = _account(login)
    if not verify_password(user.password_hash if user else None, password):
        raise InvalidCredentials()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def login(login, password):
    """Check credentials and start a new refresh-token family."""
    user = authenticate(login, password)
    pair = _issue_pair(user, family_id=secrets.token_hex(16))
    db.session.commit()
    return pair


def refresh(refresh_token):
    """Spend a refresh token for a new pair; a replayed one revokes its whole family."""
    now = utcnow()
    token = _find_locking_family(refresh_token)
    if token is None or token.revoked_at is not None:
        raise InvalidToken()
    if token.used_at is not None:
        # A replay, however old: expired or not, the family it belongs to may live on.
        _revoke_family(token.family_id, now)
        db.session.commit()
        raise InvalidToken("This refresh token was already used; please log in again.")
    if token.expires_at <= now:
        raise InvalidToken()
    token.used_at = now
    user = db.session.get(User, token.user_id)
    pair = _issue_pair(user, family_id=token.family_id)
    db.session.commit()
    return pair


def logout(user, refresh_token):
    """Revoke the family of ``refresh_token`` if it is the caller's; silent otherwise."""
    token = _find_locking_family(refresh_token)
    if token is not None and token.user_id == user.id:
        _revoke_family(token.family_id, utcnow())
        db.session.commit()


def _find_locking_family(refresh_token):
    """The token for ``refresh_token`` (None if unknown), its family locked and its state
    read after the lock.

    Every change to a family (a rotation, a revocation) holds the lock of the family's first
    row (the login's token) until it commits, so they run one at a time: a replay or a logout
    racing a rotation waits for it, and its revocation, a statement of its own after the
    wait, sees the token the rotation issued. One row, however long the family has grown
    (a month of 15-minute refreshes is thousands).
    """
    token_hash = hash_refresh_token(refresh_token)
    family_id = db.session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash)
    )
    if family_id is None:
        return None
    db.session.execute(  # ix_refresh_tokens_family_first
        select(RefreshToken.id).where(RefreshToken.family_id == family_id)
        .order_by(RefreshToken.id).limit(1).with_for_update()
    )
    return db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        .execution_options(populate_existing=True)
    )


def purge_ended_sessions(now=None):
    """Delete every token of the families that can never refresh again; returns how many.

    A family has ended when none of its tokens is unused, unrevoked and unexpired (a logout,
    a replay, or a device left unused past REFRESH_TOKEN_DAYS). A live family keeps every
    token, spent ones included, for reuse detection. An ended family cannot come back to life
    (a rotation needs a live token), so nothing races this, and a token of it sent later is
    401 invalid_token, as it was before.
    """
    now = now or utcnow()
    live = RefreshToken.__table__.alias("live")
    deleted = db.session.execute(
        delete(RefreshToken).where(~exists().where(
            live.c.family_id == RefreshToken.family_id, live.c.used_at.is_(None),
            live.c.revoked_at.is_(None), live.c.expires_at > now,
        ))
    ).rowcount
    db.session.commit()
    return deleted


def _revoke_family(family_id, now):
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _issue_pair(user, family_id):
    access, lifetime = issue_access_token(user)
    refresh_token, token_hash = new_refresh_token()
    days = current_app.config["REFRESH_TOKEN_DAYS"]
    db.session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=token_hash,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return {
        "access_token": access,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
    }
