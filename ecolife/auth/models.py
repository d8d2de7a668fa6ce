"""Refresh tokens: single use, stored hashed, grouped in families for reuse detection."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.dbtypes import BigId, UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow


class RefreshToken(db.Model):
    __tablename__ = "refresh_tokens"
    # A family's first token (the login's) is the lock every change to the family takes.
    __table_args__ = (Index("ix_refresh_tokens_family_first", "family_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Every token rotated from one login shares a family; a replay revokes it whole.
    family_id: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(db.Model):
    """A login in a browser: the cookie holds a random token, the row its hash and its end.

    Looked up on every page, so a logout (``revoked_at``) ends it at once: a copy of the
    cookie taken before is refused from then on.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
