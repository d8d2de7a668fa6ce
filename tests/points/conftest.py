"""Every points test ends with a ledger that verifies."""
import pytest

from ecolife.extensions import db
from ecolife.points.verification import verify


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(app):
    yield
    db.session.rollback()
    assert verify() == []
