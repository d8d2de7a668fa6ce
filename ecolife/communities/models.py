"""The programme's places: province > district > tambon > village."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.dbtypes import UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow

KINDS = ("province", "district", "tambon", "village")


class Community(db.Model):
    __tablename__ = "communities"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('province', 'district', 'tambon', 'village')", name="kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
