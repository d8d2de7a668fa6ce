"""The residents' pages: each shows what its service returns, and only to residents."""
import re

import pytest
import zxingcpp
from PIL import Image
from io import BytesIO
from sqlalchemy import func, select

from ecolife.codes import service as codes
from ecolife.extensions import db
from ecolife.rewards.models import Redemption, Reward
from ecolife.scans.service import record_scan
from tests.factories import make_code, make_shop, make_user, make_village
from tests.web.helpers import csrf_token, log_in, post_form, text

EN = {"Accept-Language": "en"}
KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')
PAGES = ("/home", "/history", "/history?show=points", "/rewards", "/vouchers", "/badges",
         "/leaderboards", "/leaderboards?scope=province&period=all", "/village", "/me")


@pytest.fixture
def village():
    return make_village()


@pytest.fixture
def resident(client, village):
    user = make_user(display_name="นภา", community_id=village.id)
    log_in(client, user)
    return user


def scan(user, shop, slug="no_plastic_bag"):
    return record_scan(user.id, {"token": codes.current_token(make_code(shop, slug))})


def reward(cost=10, stock=3, **fields):
    row = Reward(name=fields.pop("name", "ถุงผ้า Cloth bag"), cost_points=cost, stock=stock,
                 stock_left=stock, **fields)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("path", PAGES)
def test_each_page_sends_the_logged_out_to_log_in_and_refuses_other_roles(app, path):
    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    for role in ("shop_owner", "operator"):
        client = app.test_client()
        log_in(client, make_user(role))
        refused = client.get(path, headers=EN)
        assert refused.status_code == 403 and "This page is not for you" in text(refused)


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_for_a_resident_in_both_languages(client, resident, path):
    scan(resident, make_shop())
    for headers in ({}, EN):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, text(response)[:500])
        assert 'class="tabs"' in text(response)


def test_home_shows_balance_level_streak_and_impact_in_plain_words(client, resident):
    shop = make_shop()
    scan(resident, shop)
    scan(resident, shop, "no_foam")
    body = text(client.get("/home", headers=EN))
    assert "Hello, นภา" in body and '<p class="balance">10</p>' in body
    assert "1 plastic bag avoided" in body and "1 foam box avoided" in body
    assert "10 points expire within 30 days" not in body  # a year away
    assert "Seedling" in body and "90 points to go" in body and "1 day" in body
    thai = text(client.get("/home"))
    assert "ไม่ใช้ถุงพลาสติก 1 ใบ" in thai and "เมล็ดพันธุ์" in thai


def test_history_shows_scans_and_the_ledger(client, resident):
    scan(resident, make_shop(name="ร้านป้าศรี"))
    scans = text(client.get("/history", headers=EN))
    assert "ร้านป้าศรี" in scans and "+5" in scans
    ledger = text(client.get("/history?show=points", headers=EN))
    assert "Points earned" in ledger and "balance 5" in ledger


def test_redeem_with_a_confirm_step_then_the_voucher_then_cancel_refunds(client, resident):
    shop = make_shop()
    for slug in ("no_plastic_bag", "no_foam"):
        scan(resident, shop, slug)
    prize = reward(cost=10, stock=3)
    listing = text(client.get("/rewards", headers=EN))
    assert "ถุงผ้า Cloth bag" in listing and "3 left" in listing
    assert "You have 10 points." in listing
    confirm = text(client.get(f"/rewards/{prize.id}", headers=EN))
    assert "After this you will have 0 points." in confirm
    key = KEY.search(confirm).group(1)
    token = csrf_token(client, f"/rewards/{prize.id}")
    first = client.post(f"/rewards/{prize.id}", data={"csrf_token": token, "key": key})
    again = client.post(f"/rewards/{prize.id}", data={"csrf_token": token, "key": key})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1
    voucher = db.session.scalar(select(Redemption))
    page = text(client.get(first.headers["Location"], headers=EN))
    assert voucher.voucher_code in page and "Show this at the counter" in page
    qr = client.get(f"/vouchers/{voucher.id}/qr.png")
    assert qr.status_code == 200 and qr.headers["Cache-Control"] == "private, no-store"
    decoded = zxingcpp.read_barcodes(Image.open(BytesIO(qr.data)))
    assert [d.text for d in decoded] == [voucher.voucher_code]
    db.session.refresh(resident)
    assert resident.balance == 0
    cancel_page = text(client.get(f"/vouchers/{voucher.id}/cancel", headers=EN))
    assert "Your 10 points come back to you." in cancel_page
    response = client.post(f"/vouchers/{voucher.id}/cancel", data={
        "csrf_token": token, "key": KEY.search(cancel_page).group(1)})
    assert response.status_code == 302
    db.session.refresh(resident)
    assert resident.balance == 10
    assert "Cancelled" in text(client.get(f"/vouchers/{voucher.id}", headers=EN))
    assert client.get(f"/vouchers/{voucher.id}/qr.png").status_code == 409
    db.session.refresh(prize)
    assert prize.stock_left == 3


def test_redeeming_without_the_points_is_a_friendly_refusal_that_spends_nothing(client, resident):
    prize = reward(cost=500)
    confirm = text(client.get(f"/rewards/{prize.id}", headers=EN))
    assert "You need 500 more points." in confirm and 'name="key"' not in confirm
    response = post_form(client, f"/rewards/{prize.id}", {"key": "b" * 32},
                         form_page="/me", headers=EN)
    assert response.status_code == 409 and "Not enough points." in text(response)
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_another_residents_voucher_is_not_found(app, client, resident):
    other = make_user()
    for slug in ("no_plastic_bag", "no_foam"):
        scan(other, make_shop(), slug)
    prize = reward(cost=10)
    from ecolife.rewards.redemptions import redeem_reward

    voucher = redeem_reward(other, prize.id)
    for path in (f"/vouchers/{voucher.id}", f"/vouchers/{voucher.id}/qr.png",
                 f"/vouchers/{voucher.id}/cancel"):
        assert client.get(path).status_code == 404
    response = post_form(client, f"/vouchers/{voucher.id}/cancel", {"key": "c" * 32},
                         form_page="/me")
    assert response.status_code == 404
    assert db.session.get(Redemption, voucher.id).status == "issued"


def test_badges_show_the_earned_ones_first_dated(client, resident):
    scan(resident, make_shop())
    body = text(client.get("/badges", headers=EN))
    assert "You have 1 badge." in body and "First step" in body and "One week" in body


def test_the_leaderboards_rank_the_resident_in_their_places(client, resident, village):
    neighbour = make_user(display_name="สมศรี", community_id=village.id)
    shop = make_shop()
    scan(resident, shop)
    scan(neighbour, shop)
    scan(neighbour, shop, "no_foam")
    body = text(client.get("/leaderboards", headers=EN))
    assert "บ้านป่าเส้า Ban Pa Sao" in body and "สมศรี" in body
    assert "You are number 2 with 5 points" in body
    province = text(client.get("/leaderboards?scope=province&period=month", headers=EN))
    assert "ลำพูน Lamphun" in province and "You are number 2" in province


def test_a_resident_without_a_village_sees_everyones_board(client):
    log_in(client, make_user())
    body = text(client.get("/leaderboards", headers=EN))
    assert "Choose your village to see its boards" in body
    assert "Choose my village" in text(client.get("/village", headers=EN))


def test_the_village_page_shows_its_stats(client, resident):
    scan(resident, make_shop())
    body = text(client.get("/village", headers=EN))
    assert "บ้านป่าเส้า Ban Pa Sao" in body and "100%" in body
    assert "A clean village" in body and "1 plastic bag avoided" in body


def test_the_profile_changes_name_and_village(client, resident, village):
    response = post_form(client, "/me", {"display_name": "นภา ใจดี", "community_id": ""})
    assert response.status_code == 302
    db.session.refresh(resident)
    assert (resident.display_name, resident.community_id) == ("นภา ใจดี", None)
    post_form(client, "/me", {"display_name": "นภา", "community_id": str(village.id)})
    db.session.refresh(resident)
    assert resident.community_id == village.id


@pytest.mark.parametrize("fields, message", [
    ({"display_name": "", "community_id": ""}, "ต้องไม่เว้นว่าง"),
    ({"display_name": "x", "community_id": "1"}, "สมาชิกต้องสังกัดหมู่บ้าน"),  # the province
    ({"display_name": "x", "community_id": "abc"}, "ต้องเป็นตัวเลข"),
])
def test_a_refused_profile_change_says_why_and_changes_nothing(client, resident, fields, message):
    response = post_form(client, "/me", fields)
    assert response.status_code == 422 and message in text(response)
    db.session.refresh(resident)
    assert resident.display_name == "นภา"
