"""Validators that the features' schemas share."""
import marshmallow as ma
from marshmallow import validate

# The ids a request may name live in 32-bit columns (PostgreSQL's integer). A larger one is
# no row; asked of the database it would be an out-of-range error, not an answer.
MAX_ID = 2**31 - 1
# An id in a body or a query: out of range is a 422 on that field, like any bad value.
ID = validate.Range(min=1, max=MAX_ID, error="Must be an id (1 to {max}).")


def not_blank(value):
    """Refuse a text of whitespace only (a name, a reason): validate=[Length(...), not_blank]."""
    if value is not None and not value.strip():
        raise ma.ValidationError("Must not be blank.")
