"""User payloads."""
import marshmallow as ma
from marshmallow import validate


class LevelOut(ma.Schema):
    number = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    points_to_next = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "null at the top level"}
    )


class StreakOut(ma.Schema):
    current = ma.fields.Integer(required=True, metadata={"description": "Consecutive local days"})
    best = ma.fields.Integer(required=True)


class ExpiringOut(ma.Schema):
    points = ma.fields.Integer(required=True)
    within_days = ma.fields.Integer(required=True)
    next_expiry_at = ma.fields.DateTime(allow_none=True, required=True)


class UserOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True, required=True)
    phone = ma.fields.String(allow_none=True, required=True)
    role = ma.fields.String(required=True)
    community_id = ma.fields.Integer(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)


class MeOut(UserOut):
    balance = ma.fields.Integer(required=True)
    lifetime_points = ma.fields.Integer(required=True)
    level = ma.fields.Nested(LevelOut, required=True)
    streak = ma.fields.Nested(StreakOut, required=True)
    expiring = ma.fields.Nested(ExpiringOut, required=True)


class MePatchIn(ma.Schema):
    # role, balance and everything else are unknown fields here: a 422.
    class Meta:
        unknown = ma.RAISE

    display_name = ma.fields.String(validate=validate.Length(min=1, max=100))
    community_id = ma.fields.Integer(allow_none=True, strict=True)

    @ma.validates("display_name")
    def _name(self, value, **_):
        if not value.strip():
            raise ma.ValidationError("Must not be blank.")
