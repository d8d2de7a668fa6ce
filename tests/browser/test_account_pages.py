"""Logging in and out in a real browser, in Thai then English."""
import re

from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user


def test_log_in_switch_to_english_and_log_out(page):
    user = make_user("shop_owner", email="somchai@example.org", display_name="สมชาย")
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("เข้าสู่ระบบ")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Log in")
    page.get_by_label("Phone number or email").fill(user.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error")).to_have_text("Wrong phone, email or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("สมชาย")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)account$"))
