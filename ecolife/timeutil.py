"""Time: UTC in storage, the programme's local calendar for days, weeks and months."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow():
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def local_tz():
    """The programme's timezone (``ECOLIFE_TIMEZONE``, default Asia/Bangkok)."""
    return ZoneInfo(current_app.config["ECOLIFE_TIMEZONE"])


def local_day(at: datetime) -> date:
    """The calendar day of ``at`` in the programme's timezone: the unit of limits and streaks."""
    return at.astimezone(local_tz()).date()
