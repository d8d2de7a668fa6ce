"""Badges: a data-driven catalogue, and who earned which (once)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecolife.dbtypes import BigId, UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow


class Badge(db.Model):
    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # e.g. {"type": "scan_count", "threshold": 10}; see ecolife/badges/criteria.py.
    criteria: Mapped[dict] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserBadge(db.Model):
    __tablename__ = "user_badges"
    __table_args__ = (UniqueConstraint("user_id", "badge_id", name="uq_user_badges_user_badge"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded explicitly (joinedload): a list never loads its badges one by one.
    badge: Mapped[Badge] = relationship(lazy="raise")
