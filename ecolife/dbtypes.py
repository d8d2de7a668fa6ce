"""Column types shared by the models."""
from datetime import UTC

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

# Tables that grow with every scan get 64-bit ids.
BigId = BigInteger()


class UTCDateTime(TypeDecorator):
    """Always timezone-aware UTC in Python; a naive datetime is refused, never guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use ecolife.timeutil.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.astimezone(UTC)
