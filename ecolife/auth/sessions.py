"""Web sessions: a browser's login, kept as a row the cookie's random token names.

The cookie carries the token; the database keeps only its SHA-256 hash, when it ends and
whether it was ended. Every page looks it up, so a logout ends it for every copy of the
cookie at once, unlike a bearer token that lives until it expires.
"""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ecolife.auth.models import WebSession
from ecolife.auth.tokens import hash_refresh_token
from ecolife.extensions import db
from ecolife.timeutil import utcnow
from ecolife.users.models import User


def start_web_session(user):
    """A new session for ``user`` (committed); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["WEB_SESSION_DAYS"]
    db.session.add(WebSession(user_id=user.id, token_hash=hash_refresh_token(token),
                              expires_at=utcnow() + timedelta(days=days)))
    db.session.commit()
    return token


def web_session_user(token):
    """The user of a live session (not ended, not expired), else None."""
    if not isinstance(token, str) or not token:
        return None
    return db.session.scalar(
        select(User).join(WebSession, WebSession.user_id == User.id).where(
            WebSession.token_hash == hash_refresh_token(token),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > utcnow(),
        )
    )


def end_web_session(token):
    """End the session ``token`` names, if it is live; a second logout changes nothing."""
    if not isinstance(token, str) or not token:
        return
    db.session.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_refresh_token(token),
               WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


def purge_ended_web_sessions(now=None):
    """Delete the rows of sessions that ended (logged out or expired); returns how many."""
    now = now or utcnow()
    deleted = db.session.execute(
        delete(WebSession).where(
            or_(WebSession.revoked_at.is_not(None), WebSession.expires_at <= now))
    ).rowcount
    db.session.commit()
    return deleted
