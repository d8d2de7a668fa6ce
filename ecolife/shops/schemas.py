"""Shop payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.actions.schemas import SLUG
from ecolife.fields import ID, not_blank
from ecolife.shops.models import STATUSES

_LATITUDE = validate.Range(min=-90, max=90)
_LONGITUDE = validate.Range(min=-180, max=180)


class _ShopFields(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(validate=[validate.Length(min=1, max=200), not_blank],
                            metadata={"example": "ร้านกาแฟป่าซาง"})
    address = ma.fields.String(allow_none=True, validate=validate.Length(max=500))
    latitude = ma.fields.Float(allow_none=True, validate=_LATITUDE)
    longitude = ma.fields.Float(allow_none=True, validate=_LONGITUDE)
    geofence_m = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=10, max=50_000),
        metadata={"description": "Scans sending a location must be this close (needs a location)"},
    )
    category = ma.fields.String(allow_none=True, validate=SLUG, metadata={"example": "cafe"})
    community_id = ma.fields.Integer(strict=True, allow_none=True, validate=ID,
                                     metadata={"description": "The community the shop is in"})


class ShopIn(_ShopFields):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank],
                            metadata={"example": "ร้านกาแฟป่าซาง"})


class ShopPatchIn(_ShopFields):
    """Details only: the status changes through approve / suspend (sending it is a 422)."""


class ShopDecisionIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reason = ma.fields.String(validate=validate.Length(max=500),
                              metadata={"description": "Kept in the audit log"})


class ShopOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    owner_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(allow_none=True, required=True)
    latitude = ma.fields.Float(allow_none=True, required=True)
    longitude = ma.fields.Float(allow_none=True, required=True)
    geofence_m = ma.fields.Integer(allow_none=True, required=True)
    category = ma.fields.String(allow_none=True, required=True)
    community_id = ma.fields.Integer(allow_none=True, required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    distance_m = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Great-circle metres from the given point (only when one is "
                                 "given; null for a shop without a location)"},
    )


class ShopQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    category = ma.fields.String(validate=SLUG)
    status = ma.fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "Narrows what the caller may see (owners, operators)"},
    )
    mine = ma.fields.Boolean(metadata={"description": "Only the caller's own shops (needs auth)"})
    near = ma.fields.String(
        metadata={"description": "lat,lng: nearest first, with distance_m",
                  "example": "18.5745,99.0087"}
    )
    lat = ma.fields.Float(validate=_LATITUDE, metadata={"description": "With lng: same as near"})
    lng = ma.fields.Float(validate=_LONGITUDE)

    @ma.validates_schema
    def _one_point(self, data, **_):
        if "near" in data and ("lat" in data or "lng" in data):
            raise ma.ValidationError("Give either near or lat and lng.", "near")
        if ("lat" in data) != ("lng" in data):
            raise ma.ValidationError("lat and lng go together.", "lat" if "lng" in data else "lng")

    @ma.post_load
    def _point(self, data, **_):
        """Fold near / lat+lng into one ``point`` = (lat, lng) or None."""
        near, lat, lng = data.pop("near", None), data.pop("lat", None), data.pop("lng", None)
        if near is not None:
            lat, lng = _parse_near(near)
        data["point"] = (lat, lng) if lat is not None else None
        return data


def _parse_near(text):
    parts = text.split(",")
    try:
        lat, lng = (float(p) for p in parts)
    except ValueError:
        raise ma.ValidationError("Expected lat,lng in decimal degrees.", "near") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ma.ValidationError("Latitude -90..90, longitude -180..180.", "near")
    return lat, lng
