"""A resident's whole journey in Chromium at phone size: sticker, join, collect, redeem, cancel;
a refusal; Thai and English."""
import re

import pytest
from playwright.sync_api import expect

from ecolife.codes import service as codes
from ecolife.extensions import db
from ecolife.rewards.models import Reward
from tests.factories import PASSWORD, make_code, make_shop, make_user


def sticker(shop, slug="own_cup"):
    return "/s/" + codes.current_token(make_code(shop, slug))


def log_in(page, user, next_path):
    page.goto(f"/login?next={next_path}")
    page.locator("#f-login").fill(user.email)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()


def test_join_at_a_sticker_collect_redeem_and_cancel(page):
    shop = make_shop(name="ร้านกาแฟป่าซาง Pa Sang Coffee")
    db.session.add(Reward(name="ส่วนลด 5 บาท", cost_points=5, stock=2, stock_left=2))
    db.session.commit()
    path = sticker(shop)

    page.goto(path)
    expect(page.locator("h1")).to_have_text("ร้านกาแฟป่าซาง Pa Sang Coffee")
    expect(page.locator(".points")).to_have_text("+5 แต้ม")
    page.get_by_role("link", name="สมัครและสะสมแต้ม").click()
    page.get_by_label("เบอร์โทรศัพท์หรืออีเมล").fill("0812345678")
    page.get_by_label("ชื่อของคุณ").fill("มะลิ")
    page.get_by_label("รหัสผ่าน").fill("a long password")
    page.get_by_role("button", name="สร้างบัญชีของฉัน").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))

    page.get_by_role("button", name="สะสมแต้มของฉัน").click()
    expect(page).to_have_url(re.compile(r"/claimed$"))
    expect(page.locator(".balance")).to_have_text("+5 แต้ม")
    expect(page.get_by_text("ไม่ใช้แก้วพลาสติก 1 ใบ")).to_be_visible()
    page.get_by_role("link", name="เรียบร้อย").click()
    expect(page.locator("p.balance")).to_have_text("5")

    page.locator(".tabs").get_by_role("link", name="ของรางวัล").click()
    page.get_by_role("link", name="5 แต้ม").click()
    expect(page.get_by_text("หลังแลกแล้วคุณจะเหลือ 0 แต้ม")).to_be_visible()
    page.get_by_role("button", name="แลกด้วย 5 แต้ม").click()
    expect(page.get_by_role("status")).to_contain_text("คูปองของคุณพร้อมแล้ว")
    code = page.locator(".voucher-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
    countdown = re.compile(r"^เหลือ \d+ วัน \d\d:\d\d:\d\d$")  # voucher.js ticking
    expect(page.locator(".countdown time")).to_have_text(countdown)
    assert page.locator(".qr img").evaluate("img => img.complete && img.naturalWidth > 0")

    page.get_by_role("link", name="ยกเลิกคูปองนี้").click()
    page.get_by_role("button", name="ใช่ ยกเลิกเลย").click()
    expect(page.get_by_role("status")).to_have_text("ยกเลิกคูปองแล้ว ได้แต้มคืนแล้ว")
    expect(page.locator(".status")).to_have_text("ยกเลิกแล้ว")
    page.locator(".tabs").get_by_role("link", name="หน้าแรก").click()
    expect(page.locator("p.balance")).to_have_text("5")


def test_too_far_from_the_shop_with_the_phones_location(page, context, live_server):
    shop = make_shop(latitude=18.5263, longitude=98.9397, geofence_m=150)
    path = sticker(shop)
    context.grant_permissions(["geolocation"], origin=live_server)
    context.set_geolocation({"latitude": 13.7563, "longitude": 100.5018})  # Bangkok
    log_in(page, make_user(), path)
    page.get_by_role("button", name="สะสมแต้มของฉัน").click()
    expect(page.locator("h1")).to_have_text("ดูเหมือนคุณจะอยู่ไกลจากร้านเกินไป")
    expect(page.get_by_text("ยังไม่ได้รับแต้ม")).to_be_visible()


def test_at_the_shop_the_location_is_sent_and_credited(page, context, live_server):
    from sqlalchemy import select

    from ecolife.scans.models import Scan

    shop = make_shop(latitude=18.5263, longitude=98.9397, geofence_m=150)
    path = sticker(shop)
    context.grant_permissions(["geolocation"], origin=live_server)
    context.set_geolocation({"latitude": 18.5264, "longitude": 98.9398})
    log_in(page, make_user(), path)
    page.get_by_role("button", name="สะสมแต้มของฉัน").click()
    expect(page).to_have_url(re.compile(r"/claimed$"))
    assert db.session.scalar(select(Scan.latitude)) == pytest.approx(18.5264)


def test_in_english_a_second_tap_is_told_when_to_come_back(page):
    shop = make_shop(name="Nong Dok Market")
    path = sticker(shop, "no_plastic_bag")
    log_in(page, make_user(), path)
    page.get_by_role("link", name="English").click()
    expect(page.locator(".tag")).to_have_text("No plastic bag")
    page.get_by_role("button", name="Collect my points").click()
    expect(page.locator(".balance")).to_have_text("+5 points")
    page.goto(path)
    page.get_by_role("button", name="Collect my points").click()
    expect(page.locator("h1")).to_have_text("You collected here a moment ago")
    expect(page.get_by_text("You can collect here again in 15 minutes.")).to_be_visible()
    page.get_by_role("link", name="ไทย").click()
    expect(page.locator("h1")).to_have_text("Nong Dok Market")  # back at the sticker
    expect(page.get_by_role("button", name="สะสมแต้มของฉัน")).to_be_visible()
