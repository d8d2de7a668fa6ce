"""GET /me/ledger: every movement of the caller's points, newest first, paged."""
import json

import pytest

from tests.factories import assert_error, auth, make_code, make_shop, make_user
from tests.scans.helpers import scan


def test_the_ledger_lists_scans_and_adjustments_newest_first(client):
    operator, resident = make_user("operator"), make_user()
    shop = make_shop()
    first = scan(client, resident, make_code(shop)).get_json()
    second = scan(client, resident, make_code(shop, "no_straw")).get_json()
    client.post(f"/api/v1/users/{resident.id}/adjustments", json={"delta": -3, "reason": "oops"},
                headers=auth(operator))
    rows = client.get("/api/v1/me/ledger", headers=auth(resident)).get_json()
    assert [(r["kind"], r["delta"], r["balance_after"], r["reference"]) for r in rows] == [
        ("adjust", -3, 4, f"operator:{operator.id}"),
        ("earn", 2, 7, f"scan:{second['id']}"),
        ("earn", 5, 5, f"scan:{first['id']}"),
    ]
    assert set(rows[0]) == {"id", "delta", "kind", "reference", "balance_after", "created_at"}


def test_the_ledger_is_paged_and_private(client):
    resident, other = make_user(), make_user()
    shop = make_shop()
    for slug in ("no_plastic_bag", "no_straw", "own_cup", "no_foam", "refill"):
        assert scan(client, resident, make_code(shop, slug)).status_code == 201
    scan(client, other, make_code(shop))
    response = client.get("/api/v1/me/ledger?page=2&page_size=2", headers=auth(resident))
    assert len(response.get_json()) == 2
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["total"] == 5 and meta["total_pages"] == 3
    assert_error(client.get("/api/v1/me/ledger?page_size=500", headers=auth(resident)), 422,
                 "validation_error")


@pytest.mark.parametrize("role", ["resident", "shop_owner", "operator"])
def test_every_user_has_a_ledger(client, role):
    response = client.get("/api/v1/me/ledger", headers=auth(make_user(role)))
    assert response.status_code == 200 and response.get_json() == []


def test_anonymous_has_no_ledger(client):
    assert_error(client.get("/api/v1/me/ledger"), 401, "unauthorized")
