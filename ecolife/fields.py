"""Validators that the features' schemas share."""
from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate

# The ids a request may name live in 32-bit columns (PostgreSQL's integer). A larger one is
# no row; asked of the database it would be an out-of-range error, not an answer.
MAX_ID = 2**31 - 1
# An id in a body or a query: out of range is a 422 on that field, like any bad value.
ID = validate.Range(min=1, max=MAX_ID, error="Must be an id (1 to {max}).")
# A moment a request may set (a reward's window). Year 1 at +14:00 or 9999 at -01:00 is valid
# ISO 8601 but has no UTC equivalent to store: it was a 500.
MOMENT = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC),
                        max=datetime(9000, 1, 1, tzinfo=UTC),
                        error="Must be between 2000 and 9000.")


def not_blank(value):
    """Refuse a text of whitespace only (a name, a reason): validate=[Length(...), not_blank]."""
    if value is not None and not value.strip():
        raise ma.ValidationError("Must not be blank.")
