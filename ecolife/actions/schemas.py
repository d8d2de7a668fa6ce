"""Earning-rule payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.fields import not_blank

SLUG = validate.Regexp(
    r"^[a-z][a-z0-9_]{1,39}\Z", error="2-40 characters: a-z first, then a-z, 0-9 or _."
)


class _ActionFields(ma.Schema):
    """The changeable fields of a rule; POST requires the core ones, PATCH none."""

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(validate=[validate.Length(min=1, max=100), not_blank])
    name_th = ma.fields.String(allow_none=True,
                               validate=[validate.Length(min=1, max=100), not_blank])
    points = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000))
    impact_unit = ma.fields.String(validate=SLUG, metadata={"example": "plastic_bag"})
    impact_amount = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000))
    cooldown_minutes = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=10_080))
    daily_limit = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=1_000),
        metadata={"description": "Credited scans per user per local day; null = no limit"},
    )
    active = ma.fields.Boolean(metadata={"description": "Inactive rules earn nothing"})


class ActionIn(_ActionFields):
    slug = ma.fields.String(required=True, validate=SLUG, metadata={"example": "no_plastic_bag"})
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=100), not_blank])
    points = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=10_000)
    )
    impact_unit = ma.fields.String(required=True, validate=SLUG)
    impact_amount = ma.fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=0, max=1_000)
    )
    cooldown_minutes = ma.fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=10_080)
    )
    daily_limit = ma.fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=1_000)
    )
    active = ma.fields.Boolean(load_default=True)


class ActionPatchIn(_ActionFields):
    """Every field optional; the slug is immutable (sending it is a 422)."""


class ActionOut(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    name_th = ma.fields.String(allow_none=True, required=True)
    points = ma.fields.Integer(required=True)
    impact_unit = ma.fields.String(required=True)
    impact_amount = ma.fields.Integer(required=True)
    cooldown_minutes = ma.fields.Integer(required=True)
    daily_limit = ma.fields.Integer(allow_none=True, required=True)
    active = ma.fields.Boolean(required=True)


class ActionQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    active = ma.fields.Boolean(metadata={"description": "Only active (true) or inactive rules"})
