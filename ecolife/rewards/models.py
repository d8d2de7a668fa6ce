"""Rewards and the vouchers residents redeem them for."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecolife.dbtypes import BigId, UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow

REDEMPTION_STATUSES = ("issued", "fulfilled", "cancelled", "expired")


class Reward(db.Model):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost_points > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        # What makes overselling impossible, whatever the code does.
        CheckConstraint("stock_left IS NULL OR stock_left >= 0", name="stock_left_not_negative"),
        CheckConstraint("per_user_limit IS NULL OR per_user_limit > 0", name="limit_positive"),
        CheckConstraint("voucher_valid_days > 0", name="valid_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    cost_points: Mapped[int]
    stock: Mapped[int | None]  # None: unlimited
    stock_left: Mapped[int | None]
    per_user_limit: Mapped[int | None]
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)
    voucher_valid_days: Mapped[int] = mapped_column(default=30)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Redemption(db.Model):
    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('issued', 'fulfilled', 'cancelled', 'expired')", name="status_known"
        ),
        Index("ix_redemptions_user_reward_status", "user_id", "reward_id", "status"),
        Index("ix_redemptions_status_expires", "status", "expires_at"),
        Index("ix_redemptions_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    cost_points: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="issued")
    voucher_code: Mapped[str] = mapped_column(String(16), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))
    fulfilled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # A voucher is always shown with its reward: load them together, no query per row.
    reward: Mapped[Reward] = relationship(lazy="joined", innerjoin=True)
    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
