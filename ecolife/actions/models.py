"""Earning rules: what a resident did, what it is worth and what it saved."""
from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.dbtypes import UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow


class Action(db.Model):
    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("impact_amount >= 0", name="impact_not_negative"),
        CheckConstraint("cooldown_minutes >= 0", name="cooldown_not_negative"),
        CheckConstraint("daily_limit IS NULL OR daily_limit > 0", name="daily_limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_th: Mapped[str | None] = mapped_column(String(100))
    points: Mapped[int]
    impact_unit: Mapped[str] = mapped_column(String(40))
    impact_amount: Mapped[int] = mapped_column(default=1)
    cooldown_minutes: Mapped[int] = mapped_column(default=0)
    daily_limit: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
