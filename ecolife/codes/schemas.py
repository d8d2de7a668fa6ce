"""QR code payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.actions.schemas import SLUG

MODES = ("static", "rotating")


class CodeIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    action = ma.fields.String(required=True, validate=SLUG,
                              metadata={"description": "The earning rule's slug",
                                        "example": "no_plastic_bag"})
    mode = ma.fields.String(
        load_default="static", validate=validate.OneOf(MODES),
        metadata={"description": "static: printed sticker (default); rotating: a shop's screen, "
                                 "a fresh token every 30 s"},
    )


class CodeOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    shop_id = ma.fields.Integer(required=True)
    action = ma.fields.String(required=True, metadata={"description": "The earning rule's slug"})
    mode = ma.fields.String(required=True, metadata={"enum": list(MODES)})
    url = ma.fields.String(
        allow_none=True, required=True,
        metadata={"description": "Exactly the text inside the QR: {PUBLIC_BASE_URL}/s/{token}. "
                                 "Rotating: the current token's. null once revoked."},
    )
    expires_at = ma.fields.DateTime(
        allow_none=True, required=True,
        metadata={"description": "When this url stops working (rotating); null for static"},
    )
    active = ma.fields.Boolean(required=True, metadata={"description": "false once revoked"})
    created_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True, required=True)


class CodeQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    active = ma.fields.Boolean(metadata={"description": "Only active (true) or revoked codes"})


class CurrentOut(ma.Schema):
    url = ma.fields.String(required=True, metadata={"description": "The text to show as a QR now"})
    expires_at = ma.fields.DateTime(
        allow_none=True, required=True,
        metadata={"description": "When this url stops being accepted; null for static codes"},
    )
    refresh_at = ma.fields.DateTime(
        allow_none=True, required=True,
        metadata={"description": "When a screen should fetch the next url; null for static"},
    )
