"""Fixtures of the shop tests: one user per role, and shops in every status."""
import pytest

from tests.factories import make_shop, make_user


@pytest.fixture
def people():
    return {"anonymous": None, "resident": make_user(), "owner": make_user("shop_owner"),
            "other_owner": make_user("shop_owner"), "operator": make_user("operator")}


@pytest.fixture
def shops(people):
    owner, other = people["owner"], people["other_owner"]
    return {
        "approved": make_shop(owner, "approved"),
        "pending": make_shop(owner, "pending"),
        "suspended": make_shop(owner, "suspended"),
        "others_approved": make_shop(other, "approved"),
        "others_pending": make_shop(other, "pending"),
    }
