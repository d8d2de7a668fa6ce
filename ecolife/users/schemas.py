"""User payloads."""
import unicodedata

import marshmallow as ma
from marshmallow import validate

from ecolife.fields import ID

# Unicode's Bidi_Control characters: in a name they reorder the text after it on someone
# else's screen (a leaderboard row), e.g. U+202E makes "gnp.exe" read "exe.png".
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)


def clean_display_name(value):
    """``value`` as sent, or ValidationError if it is unfit to show to other users.

    Not normalised: API.md has Thai text round-trip unchanged, and NFC would reorder a
    tone mark typed before its vowel.

    Refused: control characters (category Cc: NUL, newlines, escapes), bidi controls, and
    names with nothing visible (only whitespace and format characters such as U+200B).
    Format characters inside a name stay: U+200D joins emoji sequences (a farmer is
    woman, U+200D, rice).
    """
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ma.ValidationError("Must not contain control characters.")
    if any(ch in BIDI_CONTROLS for ch in value):
        raise ma.ValidationError("Must not contain bidirectional control characters.")
    if all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in value):
        raise ma.ValidationError("Must not be blank.")
    return value


class DisplayName(ma.fields.String):
    """A name other users see (leaderboards): 1 to 100 characters, cleaned as above."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(min=1, max=100), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return clean_display_name(super()._deserialize(value, attr, data, **kwargs))


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

    display_name = DisplayName()
    community_id = ma.fields.Integer(allow_none=True, strict=True, validate=ID)
