"""Scan payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.codes.tokens import MAX_URL_LENGTH
from ecolife.users.schemas import LevelOut


class ScanIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    token = ma.fields.String(
        # Only a bound on size: a malformed token is a 404 unknown_code, like a forged one.
        validate=validate.Length(max=MAX_URL_LENGTH),
        metadata={"description": "The part of the code's URL after /s/"},
    )
    url = ma.fields.String(
        validate=validate.Length(max=MAX_URL_LENGTH),
        metadata={"description": "The whole text the camera read: {PUBLIC_BASE_URL}/s/{token}"},
    )
    latitude = ma.fields.Float(
        validate=validate.Range(min=-90, max=90), allow_nan=False,
        metadata={"description": "Where the phone is; checked against the shop's geofence"},
    )
    longitude = ma.fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)

    @ma.validates_schema
    def _one_code_and_whole_location(self, data, **_):
        if ("token" in data) == ("url" in data):
            raise ma.ValidationError("Send exactly one of token and url.", "_schema")
        if ("latitude" in data) != ("longitude" in data):
            raise ma.ValidationError("Send latitude and longitude together.", "_schema")


class ScanShopOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class ScanImpactOut(ma.Schema):
    unit = ma.fields.String(required=True, metadata={"example": "plastic_bag"})
    amount = ma.fields.Integer(required=True)


class NewBadgeOut(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class ScanOut(ma.Schema):
    """A credited scan, as the resident's history shows it."""

    id = ma.fields.Integer(required=True)
    points = ma.fields.Integer(required=True, metadata={"description": "Points this scan earned"})
    shop = ma.fields.Nested(ScanShopOut, required=True)
    action = ma.fields.String(required=True, metadata={"description": "The earning rule's slug"})
    impact = ma.fields.Nested(ScanImpactOut, required=True)
    created_at = ma.fields.DateTime(required=True)


class ScanCreatedOut(ScanOut):
    """A scan just credited, with the resident's new standing."""

    balance = ma.fields.Integer(required=True, metadata={"description": "Balance after the credit"})
    new_badges = ma.fields.List(ma.fields.Nested(NewBadgeOut), required=True)
    level = ma.fields.Nested(LevelOut, required=True)
