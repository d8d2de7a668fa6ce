"""Scans: each credited visit to a shop's code, with what it earned and saved then."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecolife.actions.models import Action
from ecolife.dbtypes import BigId, UTCDateTime
from ecolife.extensions import db
from ecolife.shops.models import Shop
from ecolife.timeutil import utcnow


class Scan(db.Model):
    __tablename__ = "scans"
    __table_args__ = (
        # Newest-first history, the cooldown check and the daily-limit count.
        Index("ix_scans_user_created", "user_id", "id"),
        Index("ix_scans_user_code_created", "user_id", "code_id", "created_at"),
        Index("ix_scans_user_action_day", "user_id", "action_id", "local_day"),
        Index("ix_scans_shop_created", "shop_id", "created_at"),
        Index("ix_scans_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code_id: Mapped[int] = mapped_column(ForeignKey("qr_codes.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    # Copied from the rule at scan time: changing a rule never rewrites history.
    points: Mapped[int]
    impact_unit: Mapped[str] = mapped_column(String(40))
    impact_amount: Mapped[int]
    # The resident's village when they scanned: the boards credited it then, and a rebuild
    # must credit the same one even after the resident moves.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    local_day: Mapped[date]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded explicitly (joinedload) or set at creation: a list never loads them one by one.
    shop: Mapped[Shop] = relationship(lazy="raise")
    action: Mapped[Action] = relationship(lazy="raise")
