"""Validators that the features' schemas share."""
import marshmallow as ma


def not_blank(value):
    """Refuse a text of whitespace only (a name, a reason): validate=[Length(...), not_blank]."""
    if value is not None and not value.strip():
        raise ma.ValidationError("Must not be blank.")
