"""GET /me/scans: the resident's own scans, newest first, paged."""
import json

import pytest

from tests.factories import assert_error, auth, make_code, make_shop, make_user
from tests.scans.helpers import scan


def test_own_scans_newest_first_with_paging(client, clock):
    resident, other = make_user(), make_user()
    shop = make_shop(name="ร้านป้าแดง")
    codes = [make_code(shop, slug) for slug in ("no_plastic_bag", "no_straw", "own_cup")]
    ids = []
    for code in codes:
        ids.append(scan(client, resident, code).get_json()["id"])
        clock.advance(minutes=1)
    scan(client, other, codes[0])

    response = client.get("/api/v1/me/scans?page=1&page_size=2", headers=auth(resident))
    assert response.status_code == 200
    page = response.get_json()
    assert [s["id"] for s in page] == ids[::-1][:2]
    assert page[0] == {
        "id": ids[2], "points": 5, "shop": {"id": shop.id, "name": "ร้านป้าแดง"},
        "action": "own_cup", "impact": {"unit": "plastic_cup", "amount": 1},
        "created_at": page[0]["created_at"],
    }
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    rest = client.get("/api/v1/me/scans?page=2&page_size=2", headers=auth(resident)).get_json()
    assert [s["id"] for s in rest] == ids[:1]


def test_page_size_is_capped(client):
    assert_error(client.get("/api/v1/me/scans?page_size=101", headers=auth(make_user())), 422,
                 "validation_error")


@pytest.mark.parametrize("role, status", [("shop_owner", 403), ("operator", 403), (None, 401)])
def test_only_residents_have_scans(client, role, status):
    user = make_user(role) if role else None
    response = client.get("/api/v1/me/scans", headers=auth(user))
    assert response.status_code == status
