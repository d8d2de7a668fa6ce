"""Fixtures of the page tests: a settable clock, and the ledger checked after every test."""
import pytest

from ecolife import timeutil
from ecolife.codes import service as codes
from ecolife.extensions import db
from ecolife.points.verification import verify


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(app):
    yield
    db.session.rollback()
    assert verify() == []


@pytest.fixture
def clock(monkeypatch):
    """Set what the scan path and the codes think the time is: ``clock(datetime)``."""

    def set_now(moment):
        monkeypatch.setattr(codes, "utcnow", lambda: moment)
        monkeypatch.setattr(timeutil, "utcnow", lambda: moment)
        return moment

    return set_now
