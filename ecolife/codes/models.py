"""QR codes: one per shop and action, static for print or rotating for a screen."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.dbtypes import UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow


class QrCode(db.Model):
    __tablename__ = "qr_codes"
    __table_args__ = (
        CheckConstraint("mode IN ('static', 'rotating')", name="mode_known"),
        CheckConstraint("mode = 'static' OR secret IS NOT NULL", name="rotating_has_secret"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    mode: Mapped[str] = mapped_column(String(16))
    # Static codes are signed with the app key named by kid; rotating ones with this secret.
    kid: Mapped[str | None] = mapped_column(String(16))
    secret: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self):
        return self.revoked_at is None
