"""Reward fixtures: the ledger checked after every test."""
import pytest

from ecolife.extensions import db
from ecolife.points.verification import verify


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(app):
    yield
    db.session.rollback()
    assert verify() == []
