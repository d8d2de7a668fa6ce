"""Reward and voucher payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.fields import ID, MOMENT, not_blank
from ecolife.rewards.models import REDEMPTION_STATUSES

NAME = [validate.Length(min=1, max=200), not_blank]
COST = validate.Range(min=1, max=1_000_000)
STOCK = validate.Range(min=0, max=1_000_000)
STOCK_DOC = {
    "description": "Vouchers to hand out in all (those already issued count); null = unlimited. "
    "Lowering it below the vouchers issued or fulfilled is a 422."
}


class RewardPatchIn(ma.Schema):
    """What an operator may change; every field optional."""

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(
        validate=NAME, metadata={"description": "Thai and English, e.g. 'ถุงผ้า (Cloth bag)'"}
    )
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))
    cost_points = ma.fields.Integer(strict=True, validate=COST)
    stock = ma.fields.Integer(allow_none=True, strict=True, validate=STOCK, metadata=STOCK_DOC)
    per_user_limit = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Issued + fulfilled vouchers per resident; null = no limit"},
    )
    starts_at = ma.fields.AwareDateTime(allow_none=True, validate=MOMENT)
    ends_at = ma.fields.AwareDateTime(allow_none=True, validate=MOMENT,
                                      metadata={"description": "After starts_at"})
    shop_id = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=ID,
        metadata={"description": "An approved shop; null = fulfilled at any approved shop"},
    )
    voucher_valid_days = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "Days a new voucher stays valid (default 30)"},
    )

    @ma.validates_schema
    def _window(self, data, **_):
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")


class RewardIn(RewardPatchIn):
    """A new reward: name, cost and stock are required (stock may be null)."""

    name = ma.fields.String(
        required=True,
        validate=NAME,
        metadata={"description": "Thai and English, e.g. 'ถุงผ้า (Cloth bag)'"},
    )
    cost_points = ma.fields.Integer(required=True, strict=True, validate=COST)
    stock = ma.fields.Integer(
        required=True, allow_none=True, strict=True, validate=STOCK, metadata=STOCK_DOC
    )


class RewardOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True, required=True)
    cost_points = ma.fields.Integer(required=True)
    stock = ma.fields.Integer(allow_none=True, required=True)
    stock_left = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "null = unlimited"}
    )
    per_user_limit = ma.fields.Integer(allow_none=True, required=True)
    starts_at = ma.fields.DateTime(allow_none=True, required=True)
    ends_at = ma.fields.DateTime(allow_none=True, required=True)
    shop_id = ma.fields.Integer(allow_none=True, required=True)
    voucher_valid_days = ma.fields.Integer(required=True)
    archived_at = ma.fields.DateTime(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class RewardQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    include = ma.fields.String(
        load_default="active",
        validate=validate.OneOf(["active", "all"]),
        metadata={
            "description": "`active` (default): redeemable now. `all` (operators only): "
            "archived, future, past and suspended shops' rewards too"
        },
    )


class RedemptionIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reward_id = ma.fields.Integer(required=True, strict=True, validate=ID)


class RedemptionOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    reward_id = ma.fields.Integer(required=True)
    reward_name = ma.fields.String(
        required=True, attribute="reward.name", metadata={"description": "What to hand over"}
    )
    cost_points = ma.fields.Integer(required=True, metadata={"description": "What it cost"})
    status = ma.fields.String(
        required=True, metadata={"enum": list(REDEMPTION_STATUSES)}
    )
    voucher_code = ma.fields.String(
        required=True,
        metadata={"description": "XXXXX-XXXXX from A-Z and 2-9 without I and O; what the QR holds"},
    )
    expires_at = ma.fields.DateTime(required=True)
    created_at = ma.fields.DateTime(required=True)
    fulfilled_at = ma.fields.DateTime(allow_none=True, required=True)
    shop_id = ma.fields.Integer(
        allow_none=True,
        required=True,
        attribute="fulfilled_shop_id",
        metadata={"description": "The shop that fulfilled it; null until then"},
    )
    cancelled_at = ma.fields.DateTime(allow_none=True, required=True)


class RedemptionCreatedOut(RedemptionOut):
    # Set by redeem_reward from the debit: user.balance read after the commit could already
    # hold the user's next movement.
    balance = ma.fields.Integer(required=True, metadata={"description": "After the debit"})


class RedemptionQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    status = ma.fields.String(validate=validate.OneOf(REDEMPTION_STATUSES))


class FulfilIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    shop_id = ma.fields.Integer(
        strict=True,
        validate=ID,
        allow_none=True,  # null = not said, as a reward's shop_id null is "any shop"
        metadata={
            "description": "Which of your shops fulfils it; needed only when you own more "
            "than one shop where the voucher is valid"
        },
    )
