"""Accounts: residents, shop owners and operators, with their cached balance."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.dbtypes import UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow

ROLES = ("resident", "shop_owner", "operator")


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('resident', 'shop_owner', 'operator')", name="role_known"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),
        # The ledger's guarantee, enforced by the database whatever the code does.
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("lifetime_points >= 0", name="lifetime_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="resident")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    balance: Mapped[int] = mapped_column(default=0)
    lifetime_points: Mapped[int] = mapped_column(default=0)
    # Consecutive local days with a credited action; kept here, on the row every
    # credit already locks, so a streak costs no extra query on a scan.
    streak_current: Mapped[int] = mapped_column(default=0)
    streak_best: Mapped[int] = mapped_column(default=0)
    streak_last_day: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
