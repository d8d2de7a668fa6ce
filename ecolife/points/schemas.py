"""Ledger payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.fields import not_blank

# An adjustment corrects a mistake; anything larger is not a correction (and keeps sums in range).
MAX_ADJUSTMENT = 1_000_000
# No adjustment takes a balance or lifetime points past this: the columns hold 2**31 - 1, and
# the rest is headroom for scans (over 200 million of them), which no operator can take away.
MAX_ADJUSTED_TOTAL = 1_000_000_000


class AdjustmentIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    delta = ma.fields.Integer(
        required=True, strict=True,
        validate=validate.Range(min=-MAX_ADJUSTMENT, max=MAX_ADJUSTMENT),
        metadata={"description": "Points to add (> 0) or take (< 0); never 0"},
    )
    reason = ma.fields.String(required=True, validate=[validate.Length(min=1, max=500), not_blank])

    @ma.validates("delta")
    def _not_zero(self, value, **_):
        if value == 0:
            raise ma.ValidationError("Must not be 0.")


class LedgerEntryOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    delta = ma.fields.Integer(required=True, metadata={"description": "Signed points"})
    kind = ma.fields.String(
        required=True, metadata={"enum": ["earn", "redeem", "refund", "adjust", "expire"]}
    )
    reference = ma.fields.String(
        allow_none=True, required=True,
        metadata={"description": "The source: scan:<id>, redemption:<id>, operator:<id> or "
                                 "lot:<id> (expiry)"},
    )
    balance_after = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
