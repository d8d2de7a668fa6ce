"""Fixtures of the code tests: one user per role, an approved shop, a settable clock."""
import pytest

from ecolife.codes import service
from tests.codes.helpers import THAI_NAME
from tests.factories import make_shop, make_user


@pytest.fixture
def people():
    return {"anonymous": None, "resident": make_user(), "owner": make_user("shop_owner"),
            "other_owner": make_user("shop_owner"), "operator": make_user("operator")}


@pytest.fixture
def shop(people):
    return make_shop(people["owner"], name=THAI_NAME)


@pytest.fixture
def clock(monkeypatch):
    """Set what the codes service thinks the time is: ``clock(datetime)``."""

    def set_now(moment):
        monkeypatch.setattr(service, "utcnow", lambda: moment)
        return moment

    return set_now
