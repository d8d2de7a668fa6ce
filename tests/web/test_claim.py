"""/s/{token}: the page a phone's camera opens, and the tap that collects the points."""
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from ecolife.actions.models import Action
from ecolife.codes import service, tokens
from ecolife.codes.keys import qr_keys
from ecolife.extensions import db
from ecolife.points.models import LedgerEntry
from ecolife.scans.models import Scan
from tests.factories import make_code, make_shop, make_user
from tests.web.helpers import csrf_token, log_in, text

EN = {"Accept-Language": "en"}
KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')
NOT_FOUND = "We could not find this QR code"


@pytest.fixture
def shop():
    return make_shop(name="ร้านกาแฟป่าซาง Pa Sang Coffee")


@pytest.fixture
def resident(client):
    user = make_user()
    log_in(client, user)
    return user


def page(client, token, **kwargs):
    return client.get("/s/" + token, **kwargs)


def collect(client, token, key=None, **fields):
    """Tap "collect" on the sticker's page (a fresh page's key unless one is given)."""
    form = text(page(client, token))
    if key is None:
        key = KEY.search(form).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post("/s/" + token, data={"csrf_token": csrf, "key": key, **fields},
                       headers=EN)


def scans():
    return db.session.scalar(select(func.count()).select_from(Scan))


def test_a_sticker_shows_its_shop_action_and_points_in_thai_first(client, shop):
    code = make_code(shop, "own_cup")
    response = page(client, service.current_token(code))
    assert response.status_code == 200 and response.mimetype == "text/html"
    body = text(response)
    assert '<html lang="th">' in body and "ร้านกาแฟป่าซาง Pa Sang Coffee" in body
    assert "นำแก้วมาเอง" in body and "+5 แต้ม" in body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert page(client, service.current_token(code) + "/").status_code == 200
    english = text(page(client, service.current_token(code), headers=EN))
    assert "Brought my own cup" in english and "+5 points" in english


def test_someone_logged_out_is_offered_to_join_or_log_in_and_come_back(client, shop):
    token = service.current_token(make_code(shop))
    body = text(page(client, token, headers=EN))
    assert f'/register?next=/s/{token}' in body and f'/login?next=/s/{token}' in body
    assert 'id="collect-form"' not in body and "Open the EcoLife app" not in body


def test_the_url_in_the_qr_opens_the_page(client, shop):
    url = service.code_url(make_code(shop))
    assert client.get(url.removeprefix("https://ecolife.example")).status_code == 200


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_an_inactive_shop_says_so_and_offers_no_button(client, resident, status):
    code = make_code(make_shop(status=status))
    body = text(page(client, service.current_token(code), headers=EN))
    assert "This shop is not taking part right now" in body and "collect-form" not in body


def test_a_shop_owner_is_told_only_residents_collect(client, shop):
    log_in(client, make_user("shop_owner", display_name="เจ้าของร้าน"))
    body = text(page(client, service.current_token(make_code(shop)), headers=EN))
    assert "Only residents collect points" in body and "collect-form" not in body


def test_a_rotating_code_works_within_its_window_then_expires(client, shop, clock):
    code = make_code(shop, "no_foam", "rotating")
    start = clock(datetime(2025, 6, 1, 3, 0, 0, tzinfo=UTC))
    token = service.current_token(code)
    assert page(client, token).status_code == 200
    clock(start + timedelta(seconds=59))
    assert page(client, token).status_code == 200
    clock(start + timedelta(seconds=60))
    expired = page(client, token, headers=EN)
    assert expired.status_code == 410 and "This QR code has expired" in text(expired)
    assert "รหัส QR นี้หมดอายุแล้ว" in text(page(client, token))


def test_a_revoked_code_is_withdrawn(client, shop):
    code = make_code(shop)
    token = service.current_token(code)
    code.revoked_at = datetime.now(UTC)
    db.session.commit()
    response = page(client, token, headers=EN)
    assert response.status_code == 410 and "This QR code has been withdrawn" in text(response)


def _flip(token, index):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    swapped = alphabet[(alphabet.index(token[index]) + 1) % 64]
    return token[:index] + swapped + token[index + 1:]


FORGERIES = {
    "truncated": lambda s, r: s[:-1],
    "extended": lambda s, r: s + "A",
    "mac_flipped": lambda s, r: _flip(s, 23),
    "id_flipped": lambda s, r: _flip(s, 10),
    "rotating_mac_flipped": lambda s, r: _flip(r, 23),
    "wrong_app_key": lambda s, r: tokens.sign_static(1, b"x" * 32, "0"),
    "unconfigured_kid": lambda s, r: tokens.sign_static(1, qr_keys()["0"], "9"),
    "static_token_for_rotating_code": lambda s, r: tokens.sign_static(2, qr_keys()["0"], "0"),
    "signed_unknown_id": lambda s, r: tokens.sign_static(424242, qr_keys()["0"], "0"),
    "signed_largest_id": lambda s, r: tokens.sign_static(2**48 - 1, qr_keys()["0"], "0"),
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
    token = FORGERIES[name](service.current_token(static), service.current_token(rotating))
    response = page(client, token, headers=EN)
    assert response.status_code == 404 and NOT_FOUND in text(response)
    assert "<script>alert" not in text(response)


def test_the_page_is_not_in_the_api_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not any("/s/" in path or path.startswith(("/home", "/login")) for path in paths)


def test_one_tap_credits_through_the_scan_path(client, shop, resident):
    token = service.current_token(make_code(shop, "own_cup"))
    response = collect(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/claimed"
    shown = text(client.get("/claimed", headers=EN))
    assert "+5 points" in shown and "Your balance: 5 points" in shown
    assert "1 plastic cup avoided" in shown and "New badge: First step" in shown
    assert client.get("/claimed").status_code == 302  # shown once
    scan = db.session.scalar(select(Scan))
    assert (scan.user_id, scan.points, scan.latitude) == (resident.id, 5, None)
    db.session.refresh(resident)
    assert resident.balance == 5


def test_a_double_tap_credits_once(client, shop, resident):
    token = service.current_token(make_code(shop))
    key = KEY.search(text(page(client, token))).group(1)
    first, second = collect(client, token, key), collect(client, token, key)
    assert first.status_code == second.status_code == 302
    assert "Your balance: 5 points" in text(client.get("/claimed", headers=EN))
    assert scans() == 1
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_the_phones_location_goes_with_the_tap(client, resident):
    shop = make_shop(latitude=18.5263, longitude=98.9397, geofence_m=150)
    response = collect(client, service.current_token(make_code(shop)),
                       latitude="18.5264", longitude="98.9398")
    assert response.status_code == 302
    assert db.session.scalar(select(Scan.latitude)) == pytest.approx(18.5264)


def _revoke(code):
    code.revoked_at = datetime.now(UTC)
    db.session.commit()


def _suspend(code):
    from ecolife.shops.models import Shop

    db.session.get(Shop, code.shop_id).status = "suspended"
    db.session.commit()


def _switch_off(code):
    db.session.get(Action, code.action_id).active = False
    db.session.commit()


@pytest.mark.parametrize("change, status, english, thai", [
    (_revoke, 410, "This QR code has been withdrawn", "รหัส QR นี้ถูกยกเลิกแล้ว"),
    (_suspend, 403, "This shop is not taking part right now", "ร้านนี้ยังไม่ได้ร่วมโครงการ"),
    (_switch_off, 403, "This action is not earning points right now", "กิจกรรมนี้ยังไม่ได้รับแต้ม"),
])
def test_a_refusal_after_the_page_was_opened_is_a_friendly_page(client, shop, resident, change,
                                                                status, english, thai):
    code = make_code(shop)
    token = service.current_token(code)
    form = text(page(client, token))
    change(code)
    key = KEY.search(form).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/s/" + token, data={"csrf_token": csrf, "key": key}, headers=EN)
    assert response.status_code == status and english in text(response)
    assert "Nothing was credited." in text(response)
    thai_page = client.post("/s/" + token, data={"csrf_token": csrf, "key": key})
    assert thai in text(thai_page)
    assert scans() == 0


def test_a_second_claim_within_the_cooldown_says_when_to_come_back(client, shop, resident):
    token = service.current_token(make_code(shop))
    collect(client, token)
    again = collect(client, token)
    assert again.status_code == 429 and "You collected here a moment ago" in text(again)
    assert "You can collect here again in 15 minutes." in text(again)
    assert int(again.headers["Retry-After"]) > 800
    assert scans() == 1


def test_the_daily_limit_is_a_friendly_page(client, resident, clock):
    code = make_code(make_shop(), "refill")  # 3 a day, one an hour
    now = clock(datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
    for hour in range(3):
        clock(now + timedelta(hours=hour * 2))
        assert collect(client, service.current_token(code)).status_code == 302
    clock(now + timedelta(hours=7))
    refused = collect(client, service.current_token(code))
    assert refused.status_code == 429 and "That is today's limit for this action" in text(refused)
    assert scans() == 3


def test_too_far_from_the_shop_is_a_friendly_page(client, resident):
    shop = make_shop(latitude=18.5263, longitude=98.9397, geofence_m=150)
    refused = collect(client, service.current_token(make_code(shop)),
                      latitude="13.7563", longitude="100.5018")  # Bangkok
    assert refused.status_code == 403 and "too far from the shop" in text(refused)
    assert scans() == 0


def test_an_expired_rotating_code_at_the_tap_is_a_friendly_page(client, shop, resident, clock):
    code = make_code(shop, "no_foam", "rotating")
    start = clock(datetime(2025, 6, 1, 3, 0, 0, tzinfo=UTC))
    token = service.current_token(code)
    form = text(page(client, token))
    clock(start + timedelta(seconds=90))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/s/" + token, data={"csrf_token": csrf,
                                                "key": KEY.search(form).group(1)}, headers=EN)
    assert response.status_code == 410 and "This QR code has expired" in text(response)
    assert scans() == 0


@pytest.mark.parametrize("fields", [
    {"latitude": "100", "longitude": "0"}, {"latitude": "18.5"},
    {"latitude": "x", "longitude": "y"},
    {"latitude": "nan", "longitude": "1"},
])
def test_a_bad_location_is_refused_and_credits_nothing(client, shop, resident, fields):
    response = collect(client, service.current_token(make_code(shop)), **fields)
    assert response.status_code == 422 and scans() == 0


@pytest.mark.parametrize("key", ["", "short", "g" * 32, "A" * 32])
def test_a_bad_key_is_refused_and_credits_nothing(client, shop, resident, key):
    response = collect(client, service.current_token(make_code(shop)), key=key)
    assert response.status_code == 422 and scans() == 0


def test_collecting_needs_the_form_key(client, shop, resident):
    token = service.current_token(make_code(shop))
    key = KEY.search(text(page(client, token))).group(1)
    assert client.post("/s/" + token, data={"key": key}).status_code == 400
    assert scans() == 0


def test_a_tap_when_logged_out_goes_to_log_in_and_back_to_the_sticker(client, shop):
    token = service.current_token(make_code(shop))
    response = client.post("/s/" + token, data={"csrf_token": csrf_token(client),
                                                "key": "a" * 32})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/s/{token}"
    assert scans() == 0


def test_a_shop_owners_tap_is_refused(client, shop):
    log_in(client, make_user("shop_owner"))
    token = service.current_token(make_code(shop))
    response = client.post("/s/" + token, data={"csrf_token": csrf_token(client, "/account"),
                                                "key": "a" * 32},
                           headers=EN)
    assert response.status_code == 403 and "This page is not for you" in text(response)
    assert scans() == 0


def test_many_simultaneous_taps_with_one_key_credit_once(app, client, shop, resident):
    from concurrent.futures import ThreadPoolExecutor

    token = service.current_token(make_code(shop))
    form = text(page(client, token))
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "key": KEY.search(form).group(1)}
    cookie = client.get_cookie("ecolife_session").value

    def tap(_):
        twin = app.test_client()
        twin.set_cookie("ecolife_session", cookie)
        return twin.post("/s/" + token, data=data).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(tap, range(8)))
    assert statuses == [302] * 8
    assert scans() == 1
    db.session.refresh(resident)
    assert resident.balance == 5
