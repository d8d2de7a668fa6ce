"""`make screens`: a phone-size (390×844) screenshot of every resident page, in Thai (and a
few in English), written to docs/screens/ for the README. Marked ``screens``: not run by
``make test``, since it rewrites committed files."""
from pathlib import Path

import pytest

from ecolife.codes import service as codes
from ecolife.extensions import db
from ecolife.rewards.models import Reward
from ecolife.rewards.redemptions import redeem_reward
from ecolife.scans.service import record_scan
from tests.factories import PASSWORD, make_code, make_shop, make_user, make_village

pytestmark = pytest.mark.screens
SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


def _shoot(page, name, path=None):
    if path:
        page.goto(path)
    page.wait_for_load_state("networkidle")
    # The whole page, as tall as it is, so the tab bar (fixed) sits at its foot, as on a phone.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 390, "height": max(844, height)})
    page.screenshot(path=str(SCREENS / f"{name}.png"))
    page.set_viewport_size({"width": 390, "height": 844})


def test_screenshots_of_every_page(page):
    SCREENS.mkdir(parents=True, exist_ok=True)
    village = make_village()
    cafe = make_shop(name="ร้านกาแฟป่าซาง Pa Sang Coffee")
    market = make_shop(name="ตลาดสดหนองดอก Nong Dok Market")
    resident = make_user(display_name="นภา ใจดี", email="napa@example.org",
                         community_id=village.id)
    neighbours = [make_user(display_name=name, community_id=village.id)
                  for name in ("สมศรี", "Somchai", "บุญมี")]
    for user, shops in ((resident, (cafe, market)), (neighbours[0], (cafe, market, cafe)),
                        (neighbours[1], (market,))):
        for i, shop in enumerate(shops):
            slug = ("own_cup", "no_plastic_bag", "no_straw")[i % 3]
            record_scan(user.id, {"token": codes.current_token(make_code(shop, slug))})
    for name, cost, stock in (("ส่วนลด 10 บาท (10 baht off)", 5, None),
                              ("ถุงผ้า (Cloth bag)", 80, 50),
                              ("แก้วน้ำรักษ์โลก (Eco tumbler)", 200, 0)):
        db.session.add(Reward(name=name, cost_points=cost, stock=stock, stock_left=stock,
                              description="แลกได้ที่ร้านค้าที่ร่วมโครงการ"))
    db.session.commit()
    cheap = db.session.query(Reward).filter_by(cost_points=5).one()
    voucher = redeem_reward(resident, cheap.id)
    sticker = "/s/" + codes.current_token(make_code(cafe, "no_straw"))

    _shoot(page, "01-welcome", "/")
    _shoot(page, "02-sticker-logged-out", sticker)
    _shoot(page, "03-register", f"/register?next={sticker}")
    _shoot(page, "04-login", "/login")
    page.locator("#f-login").fill(resident.email)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/home")
    _shoot(page, "05-sticker", sticker)
    page.get_by_role("button", name="สะสมแต้มของฉัน").click()
    page.wait_for_url("**/claimed")
    _shoot(page, "06-collected")
    page.goto(sticker)
    page.get_by_role("button", name="สะสมแต้มของฉัน").click()
    _shoot(page, "07-refused-cooldown")
    _shoot(page, "08-home", "/home")
    _shoot(page, "09-history", "/history")
    _shoot(page, "10-history-points", "/history?show=points")
    _shoot(page, "11-rewards", "/rewards")
    _shoot(page, "12-redeem-confirm", f"/rewards/{cheap.id}")
    _shoot(page, "13-voucher", f"/vouchers/{voucher.id}")
    _shoot(page, "14-voucher-cancel", f"/vouchers/{voucher.id}/cancel")
    _shoot(page, "15-vouchers", "/vouchers")
    _shoot(page, "16-badges", "/badges")
    _shoot(page, "17-leaderboards", "/leaderboards")
    _shoot(page, "18-village", "/village")
    _shoot(page, "19-profile", "/me")
    _shoot(page, "20-not-found", "/no/such/page")
    page.goto("/lang/en?next=/home")
    _shoot(page, "21-home-english")
    _shoot(page, "22-sticker-english", sticker)
