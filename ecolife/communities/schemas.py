"""Community payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.communities.models import KINDS
from ecolife.fields import ID, not_blank


class CommunityIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))
    parent_id = ma.fields.Integer(load_default=None, strict=True, validate=ID)


class CommunityPatchIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(validate=[validate.Length(min=1, max=200), not_blank])
    parent_id = ma.fields.Integer(allow_none=True, strict=True, validate=ID)


class CommunityOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(KINDS)})
    parent_id = ma.fields.Integer(allow_none=True, required=True)


class CommunityQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(validate=validate.OneOf(KINDS))
    parent_id = ma.fields.Integer(validate=ID)
