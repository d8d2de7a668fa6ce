"""Account payloads: what clients send and what they get back."""
import marshmallow as ma
import phonenumbers
from flask import current_app
from marshmallow import validate

from ecolife.fields import ID
from ecolife.users.schemas import DisplayName, UserOut  # noqa: F401 - the register response


def normalize_phone(value: str) -> str | None:
    """E.164, or None for what is not a phone number: '081-234 5678', '0812345678' and
    '+66 81 234 5678' are all '+66812345678' (numbers without a country code are read in
    PHONE_REGION, Thailand unless configured). One number, one account, however it is typed.
    """
    try:
        number = phonenumbers.parse(value, current_app.config["PHONE_REGION"])
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class RegisterIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    email = ma.fields.Email(load_default=None, validate=validate.Length(max=254))
    phone = ma.fields.String(load_default=None)
    password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=8, max=128)
    )
    display_name = DisplayName(required=True)
    # Operators are never self-registered: only these two are accepted.
    role = ma.fields.String(
        load_default="resident", validate=validate.OneOf(["resident", "shop_owner"])
    )
    community_id = ma.fields.Integer(load_default=None, strict=True, validate=ID)

    @ma.validates("phone")
    def _phone(self, value, **_):
        if value is not None and normalize_phone(value) is None:
            raise ma.ValidationError("Not a valid phone number.")

    @ma.validates_schema
    def _login(self, data, **_):
        if not data.get("email") and not data.get("phone"):
            raise ma.ValidationError("An email or a phone number is required.", "email")


class LoginIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    login = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class RefreshIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    refresh_token = ma.fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TokenPairOut(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds"})
