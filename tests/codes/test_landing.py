"""/s/{token}: the page a phone's camera opens, and ``resolve_token`` behind it."""
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from ecolife.codes import service, tokens
from ecolife.codes.keys import qr_keys
from ecolife.extensions import db
from tests.factories import make_code, make_shop

NOT_FOUND = "We could not find this QR code"


@pytest.fixture
def shop():
    """Overrides the package's shop: a plain name to look for in the page."""
    return make_shop(name="ร้านกาแฟป่าซาง Pa Sang Coffee")


def page(client, token):
    return client.get("/s/" + token)


def assert_not_found(response, text=NOT_FOUND):
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert text in body and '<html lang="th">' in body
    return body


def test_a_static_code_shows_its_shop_action_and_points(client, shop):
    code = make_code(shop, "own_cup")
    response = page(client, service.current_token(code))
    assert response.status_code == 200 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "ร้านกาแฟป่าซาง Pa Sang Coffee" in body
    assert "นำแก้วมาเอง" in body and "Brought my own cup" in body and "+5 แต้ม" in body
    assert "Open the EcoLife app" in body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert page(client, service.current_token(code) + "/").status_code == 200


def test_the_url_in_the_qr_opens_the_page(client, shop):
    url = service.code_url(make_code(shop))
    assert client.get(url.removeprefix("https://ecolife.example")).status_code == 200


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_an_inactive_shop_says_so(client, status):
    code = make_code(make_shop(status=status))
    body = page(client, service.current_token(code)).get_data(as_text=True)
    assert "This shop is not currently active" in body and "Open the EcoLife app" not in body


def test_a_rotating_code_works_within_its_window_then_expires(client, shop, clock):
    code = make_code(shop, "no_foam", "rotating")
    start = clock(datetime(2025, 6, 1, 3, 0, 0, tzinfo=UTC))
    token = service.current_token(code)
    assert page(client, token).status_code == 200
    clock(start + timedelta(seconds=59))
    assert page(client, token).status_code == 200
    clock(start + timedelta(seconds=60))
    assert_not_found(page(client, token), "This QR code has expired")
    with pytest.raises(service.CodeExpired):
        service.resolve_token(token)


def test_a_revoked_code_is_withdrawn(client, shop):
    code = make_code(shop)
    token = service.current_token(code)
    code.revoked_at = datetime.now(UTC)
    db.session.commit()
    assert_not_found(page(client, token), "This QR code has been withdrawn")


def _flip(token, index):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    swapped = alphabet[(alphabet.index(token[index]) + 1) % 64]
    return token[:index] + swapped + token[index + 1:]


FORGERIES = {
    "truncated": lambda s, r: s[:-1],
    "truncated_half": lambda s, r: s[:12],
    "extended": lambda s, r: s + "A",
    "mac_flipped": lambda s, r: _flip(s, 23),
    "id_flipped": lambda s, r: _flip(s, 10),
    "version_flipped": lambda s, r: _flip(s, 0),
    "rotating_mac_flipped": lambda s, r: _flip(r, 23),
    "rotating_counter_flipped": lambda s, r: _flip(r, 14),
    "wrong_app_key": lambda s, r: tokens.sign_static(1, b"x" * 32, "0"),
    "unconfigured_kid": lambda s, r: tokens.sign_static(1, qr_keys()["0"], "9"),
    "rotating_wrong_secret": lambda s, r: tokens.sign_rotating(
        2, b"y" * 20, tokens.counter_at(datetime.now(UTC).timestamp())),
    # Genuinely signed, but the kind does not match the code's mode.
    "static_token_for_rotating_code": lambda s, r: tokens.sign_static(2, qr_keys()["0"], "0"),
    "rotating_token_for_static_code": lambda s, r: tokens.sign_rotating(
        1, b"y" * 20, tokens.counter_at(datetime.now(UTC).timestamp())),
    "signed_unknown_id": lambda s, r: tokens.sign_static(424242, qr_keys()["0"], "0"),
    "signed_largest_id": lambda s, r: tokens.sign_static(2**48 - 1, qr_keys()["0"], "0"),
    "rotating_largest_id": lambda s, r: tokens.sign_rotating(2**48 - 1, b"y" * 20, 1),
    "padding": lambda s, r: s[:22] + "==",
    "standard_alphabet": lambda s, r: s[:23] + "+",
    "empty": lambda s, r: "",
    "dots": lambda s, r: "../../etc/passwd",
    "nested": lambda s, r: s + "/extra",
    "thai": lambda s, r: "ร้าน" * 6,
    "script": lambda s, r: quote("<script>alert(1)</script>"),
    "nul": lambda s, r: "%00" * 8,
    "long": lambda s, r: "A" * 5000,
}


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_or_malformed_tokens_get_the_friendly_404(client, shop, name):
    static, rotating = make_code(shop), make_code(shop, "own_cup", "rotating")
    assert (static.id, rotating.id) == (1, 2)
    token = FORGERIES[name](service.current_token(static), service.current_token(rotating))
    body = assert_not_found(page(client, token))
    assert "<script>alert" not in body
    with pytest.raises(service.UnknownCode):
        service.resolve_token(token)


def test_resolve_token_refuses_non_strings():
    for value in (None, 12, b"AQAAAAAAAAEgy7ivuV_bbwT7"):
        with pytest.raises(service.UnknownCode):
            service.resolve_token(value)


def test_the_page_is_not_in_the_api_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not any(path.startswith("/s/") or "/s/" in path for path in paths)
