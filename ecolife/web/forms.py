"""What the pages' forms send, checked by the same marshmallow schemas as the API's bodies.

CSRF: every POST to a page is checked by Flask-WTF's CSRFProtect before its view runs
(ecolife/web/__init__.py); a form carries ``{{ csrf_token() }}``. The fields are then loaded
with the API's own schema (``RegisterIn``, ``MePatchIn``, ``ScanIn``...): one rule, wherever
it is met. Errors come back per field, in the reader's language.
"""
import marshmallow as ma
from flask import request
from flask_babel import gettext, lazy_gettext

from ecolife.bodies import storable
from ecolife.errors import N_

NOT_STORABLE = lazy_gettext("Must not contain NUL or unpaired surrogates.")
# marshmallow's own messages that the pages' forms can meet, for the catalogue (the schemas'
# own are found where they raise them).
MARSHMALLOW_MESSAGES = (
    N_("Missing data for required field."), N_("Not a valid email address."),
    N_("Not a valid integer."), N_("Not a valid number."), N_("Field may not be null."),
    N_("Length must be between 8 and 128."), N_("Length must be between 1 and 100."),
    N_("Length must be between 1 and 254."), N_("Longer than maximum length 128."),
    N_("Longer than maximum length 254."),
    N_("Must be greater than or equal to -90 and less than or equal to 90."),
    N_("Must be greater than or equal to -180 and less than or equal to 180."),
)


class FormErrors(Exception):
    """A form's fields refused: ``errors`` is {field: [message, ...]}, translated."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def form_text(*names):
    """The named fields of the posted form, those left empty dropped, stripped (a password as
    typed); FormErrors for text no column can store (a NUL), as the API refuses it."""
    values, errors = {}, {}
    for name in names:
        value = request.form.get(name, "")
        if not storable(value):
            errors[name] = [str(NOT_STORABLE)]
        elif value.strip():
            values[name] = value if name.startswith("password") else value.strip()
    if errors:
        raise FormErrors(errors)
    return values


def load(schema, data, fields=None):
    """``schema().load(data)``, or FormErrors keyed by form field (``fields`` maps a schema
    field to the form's, e.g. email -> login)."""
    try:
        return schema().load(data)
    except ma.ValidationError as exc:
        raise FormErrors(_translated(exc.messages, fields or {})) from None


def _translated(messages, fields):
    errors = {}
    for field, texts in messages.items():
        if isinstance(texts, dict):  # a nested field: its messages, flattened
            texts = [t for sub in texts.values() for t in sub]
        errors.setdefault(fields.get(field, field), []).extend(gettext(t) for t in texts)
    return errors


class OneTimeKeyIn(ma.Schema):
    """The key a points-moving form carries (ecolife/web/residents/moves.py)."""

    class Meta:
        unknown = ma.RAISE

    key = ma.fields.String(required=True,
                           validate=ma.validate.Regexp(r"^[0-9a-f]{32}$", error=N_("Not valid.")))


def one_time_key():
    """The posted form's one-time key, or FormErrors."""
    return load(OneTimeKeyIn, form_text("key"))["key"]
