"""Scan fixtures: a controllable clock, and the ledger checked after every test."""
from datetime import UTC, datetime, timedelta

import pytest

from ecolife import timeutil
from ecolife.extensions import db
from ecolife.points.verification import verify

BANGKOK = timeutil.ZoneInfo("Asia/Bangkok")


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(app):
    yield
    db.session.rollback()
    assert verify() == []


class Clock:
    """What ``ecolife.timeutil.utcnow`` answers while the fixture is active."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def set_local(self, text):
        """Set the clock to a Bangkok wall time, e.g. ``"2026-03-10 23:59"``."""
        self.now = datetime.fromisoformat(text).replace(tzinfo=BANGKOK).astimezone(UTC)

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timeutil, "utcnow", lambda: clock.now)
    return clock
