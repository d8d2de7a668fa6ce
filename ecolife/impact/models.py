"""Running impact totals per village and unit, kept in the scan transaction.

With millions of scans, ``GET /impact`` and a province's stats add up a few hundred rows
(villages x units) here instead of every scan. One row per (village, unit): only residents
of the same village ever wait on the same row, and only for the end of their transaction.
A scan counts for the village its resident belonged to when scanning.
"""
from sqlalchemy import (BigInteger, CheckConstraint, ForeignKey, Index, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.extensions import db

NO_VILLAGE = text("community_id IS NULL")


class ImpactTotal(db.Model):
    __tablename__ = "impact_totals"
    __table_args__ = (
        UniqueConstraint("community_id", "impact_unit", name="uq_impact_totals_community_unit"),
        # NULLs are distinct in the constraint above: residents without a village share one
        # row per unit through this partial index, which the upsert names as its target.
        Index("uq_impact_totals_unit_no_community", "impact_unit", unique=True,
              postgresql_where=NO_VILLAGE),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The scanning resident's community (a village) at scan time; NULL: none chosen.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    impact_unit: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
