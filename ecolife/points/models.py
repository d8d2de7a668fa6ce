"""The points ledger: append-only entries, the lots credits create, and what debits took."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from ecolife.dbtypes import BigId, UTCDateTime
from ecolife.extensions import db
from ecolife.timeutil import utcnow

KINDS = ("earn", "redeem", "refund", "adjust", "expire")


class LedgerEntry(db.Model):
    """One movement of points. Never updated, never deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('earn', 'redeem', 'refund', 'adjust', 'expire')", name="kind_known"
        ),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_ledger_entries_user_id_id", "user_id", "id"),
        Index("ix_ledger_entries_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    delta: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    balance_after: Mapped[int]
    # The source: a scan (with its shop and code), a redemption, or an operator and reason.
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))
    code_id: Mapped[int | None] = mapped_column(ForeignKey("qr_codes.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    # An adjustment's village when it was made: the leaderboards it counted on (a scan's is
    # on the scan). None for other kinds, and for adjustments made before it was kept.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def reference(self):
        """The source as one string: ``scan:12``, ``redemption:3``, ``lot:9``, ``operator:1``."""
        if self.kind == "expire":
            return self.reason  # "lot:<id>"
        for prefix, value in (
            ("scan", self.scan_id),
            ("redemption", self.redemption_id),
            ("operator", self.actor_id),
        ):
            if value is not None:
                return f"{prefix}:{value}"
        return None


class PointLot(db.Model):
    """Points credited together, spent and expired oldest-expiry first."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        # Live lots only: spent and expired ones (remaining 0) never count again, and every
        # question asked of lots (what is due, what a debit takes, what expires soon) is
        # about live ones. Migration 0005.
        Index("ix_point_lots_user_live", "user_id", "expires_at", "id",
              postgresql_where=text("remaining > 0")),
        Index("ix_point_lots_live_expires", "expires_at",
              postgresql_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    amount: Mapped[int]
    remaining: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LotDebit(db.Model):
    """How much of a lot one debit took: what a refund gives back, with its expiry."""

    __tablename__ = "lot_debits"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"), index=True)
    amount: Mapped[int]


# "A live lot", as the partial indexes above spell it. Compared with a bound parameter
# (``remaining > :param``), PostgreSQL's generic plans could not prove a query
# covered by them, and would scan the table.
LIVE = PointLot.__table__.c.remaining > literal_column("0")
