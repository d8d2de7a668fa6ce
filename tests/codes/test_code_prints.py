"""What a code shows: its QR images, a rotating code's current url, and the printed poster."""
import html
from datetime import UTC, datetime, timedelta

import pytest

from ecolife.codes import service
from tests.codes.helpers import BASE, THAI_NAME, codes_url, decode_png, decode_svg
from tests.factories import assert_error, auth, make_code


# Images


@pytest.mark.parametrize("mode", ["static", "rotating"])
def test_png_and_svg_decode_to_exactly_the_url(client, people, shop, mode, clock):
    clock(datetime(2025, 6, 1, 3, 0, 10, tzinfo=UTC))
    code = make_code(shop, "no_plastic_bag", mode)
    owner = auth(people["owner"])
    url = client.get(codes_url(shop, code.id), headers=owner).get_json()["url"]
    png = client.get(codes_url(shop, code.id, "qr.png"), headers=owner)
    svg = client.get(codes_url(shop, code.id, "qr.svg"), headers=owner)
    assert png.status_code == svg.status_code == 200
    assert png.mimetype == "image/png" and svg.mimetype == "image/svg+xml"
    assert decode_png(png.data) == [url]
    assert decode_svg(svg.data) == [url]
    no_store = png.headers["Cache-Control"] == svg.headers["Cache-Control"] == "no-store"
    assert no_store is (mode == "rotating")


# The rotating screen


def test_current_url_changes_each_step_and_expires_after_its_window(client, people, shop, clock):
    code = make_code(shop, "own_cup", "rotating")
    owner = auth(people["owner"])
    start = clock(datetime(2025, 6, 1, 3, 0, 0, tzinfo=UTC))
    first = client.get(codes_url(shop, code.id, "current"), headers=owner)
    assert first.headers["Cache-Control"] == "no-store"
    first = first.get_json()
    assert first["expires_at"] == "2025-06-01T03:01:00+00:00"
    assert first["refresh_at"] == "2025-06-01T03:00:30+00:00"
    clock(start + timedelta(seconds=29))
    assert client.get(codes_url(shop, code.id, "current"), headers=owner).get_json() == first
    clock(start + timedelta(seconds=30))
    second = client.get(codes_url(shop, code.id, "current"), headers=owner).get_json()
    assert second["url"] != first["url"]  # a fresh token at most every 30 s

    token = first["url"].removeprefix(BASE)
    assert service.resolve_token(token, start + timedelta(seconds=59)).id == code.id
    with pytest.raises(service.CodeExpired):
        service.resolve_token(token, start + timedelta(seconds=60))
    with pytest.raises(service.UnknownCode):  # a token from the future is a forgery
        service.resolve_token(second["url"].removeprefix(BASE), start - timedelta(seconds=31))


def test_current_of_a_static_code_has_no_expiry(client, people, shop):
    code = make_code(shop)
    body = client.get(codes_url(shop, code.id, "current"), headers=auth(people["owner"])).get_json()
    assert body == {"url": service.code_url(code), "expires_at": None, "refresh_at": None}


# Posters


def test_poster_is_an_a5_page_with_the_thai_name_action_points_and_a_readable_qr(client, people,
                                                                              shop):
    code = make_code(shop, "no_plastic_bag")
    response = client.get(codes_url(shop, code.id, "poster"), headers=auth(people["owner"]))
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert THAI_NAME in html.unescape(page)
    assert "&lt;ลำพูน&gt;" in page  # escaped, not markup
    assert "ไม่รับถุงพลาสติก" in page and "No plastic bag" in page and "+5 แต้ม" in page
    assert "@page { size: A5;" in page
    assert "ไม่ถูกปิดทับด้วยสติกเกอร์อื่น" in page
    url = service.code_url(code)
    assert url in page
    svg = page[page.index("<svg"): page.index("</svg>") + len("</svg>")]
    assert decode_svg(svg) == [url]


def test_a_rotating_code_has_no_poster(client, people, shop):
    code = make_code(shop, "own_cup", "rotating")
    response = client.get(codes_url(shop, code.id, "poster"), headers=auth(people["owner"]))
    assert_error(response, 409, "not_printable")


def test_renamed_shop_prints_its_new_thai_name(client, people, shop):
    code = make_code(shop)
    owner = auth(people["owner"])
    client.patch(f"/api/v1/shops/{shop.id}", json={"name": "ร้านใหม่ป่าซาง"}, headers=owner)
    page = client.get(codes_url(shop, code.id, "poster"), headers=owner).get_data(as_text=True)
    assert "ร้านใหม่ป่าซาง" in page


def test_the_api_document_names_each_content_type(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    code = "/api/v1/shops/{shop_id}/codes/{code_id}"
    for suffix, content_type in (("/qr.png", "image/png"), ("/qr.svg", "image/svg+xml"),
                                 ("/poster", "text/html"), ("/current", "application/json")):
        operation = paths[code + suffix]["get"]
        assert list(operation["responses"]["200"]["content"]) == [content_type]
        assert operation["security"] == [{"bearerAuth": []}]
    refusals = paths["/api/v1/shops/{shop_id}/codes"]["post"]["responses"]["403"]["description"]
    assert "shop_not_active" in refusals and "action_not_active" in refusals
