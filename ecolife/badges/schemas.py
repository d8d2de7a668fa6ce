"""Badge payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.badges import criteria
from ecolife.fields import not_blank

SLUG = validate.Regexp(r"^[a-z0-9_]{1,40}\Z", error="Lowercase letters, digits and _ (1-40).")


class CriteriaField(ma.fields.Dict):
    """A criteria object, checked against the known types (ecolife/badges/criteria.py)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        found = criteria.problems(value)
        if found:
            raise ma.ValidationError(found)
        return value


class StrictBoolean(ma.fields.Boolean):
    """JSON true or false only: marshmallow's Boolean would also take 1, 0 and "yes"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _criteria_field(**kwargs):
    return CriteriaField(metadata={"description": criteria.DESCRIPTION,
                                   "example": {"type": "scan_count", "threshold": 10}}, **kwargs)


class BadgeIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    slug = ma.fields.String(required=True, validate=SLUG)
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=100), not_blank])
    description = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    criteria = _criteria_field(required=True)
    active = StrictBoolean(load_default=True)


class BadgePatchIn(ma.Schema):
    # The slug names the badge for good: changing it is an unknown field (422).
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(validate=[validate.Length(min=1, max=100), not_blank])
    description = ma.fields.String(validate=validate.Length(max=2000))
    criteria = _criteria_field()
    active = StrictBoolean(metadata={"description": "false takes it out of the catalogue"})


class BadgeOut(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    criteria = ma.fields.Dict(required=True, metadata={"description": criteria.DESCRIPTION})
    active = ma.fields.Boolean(required=True, metadata={
        "description": "Only operators see inactive badges"})


class MyBadgeOut(ma.Schema):
    slug = ma.fields.String(attribute="badge.slug", required=True)
    name = ma.fields.String(attribute="badge.name", required=True)
    awarded_at = ma.fields.DateTime(required=True)
