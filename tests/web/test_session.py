"""The web login: its cookie, CSRF, logout on the server, safe redirects, shared rate limits."""
import pytest
from sqlalchemy import func, select

from config import Config, ProductionConfig
from ecolife.auth.models import WebSession
from ecolife.extensions import db
from ecolife.web.session import safe_next
from tests.factories import PASSWORD, assert_error, make_user
from tests.web.helpers import csrf_token, log_in, post_form, text


def test_logging_in_sets_an_httponly_samesite_cookie_holding_no_user_data(client):
    user = make_user(email="nok@example.org")
    response = log_in(client, user)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ecolife_session=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie  # tests run over http
    assert "nok@example.org" not in cookie
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 1
    assert client.get("/account").status_code == 200


def test_production_cookies_are_secure():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert Config.SESSION_COOKIE_HTTPONLY is True and Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_a_form_without_its_csrf_token_is_refused_and_logs_no_one_in(client):
    user = make_user()
    response = client.post("/login", data={"login": user.email, "password": PASSWORD},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "This form has expired" in text(response)
    forged = client.post("/login", data={"login": user.email, "password": PASSWORD,
                                         "csrf_token": "forged"})
    assert forged.status_code == 400 and "แบบฟอร์มนี้หมดอายุแล้ว" in text(forged)
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert client.get("/account").status_code == 302


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app, client):
    user = make_user()
    log_in(client, user)
    stolen = app.test_client()
    stolen.set_cookie("ecolife_session", client.get_cookie("ecolife_session").value)
    assert stolen.get("/account").status_code == 200
    response = post_form(client, "/logout", {}, form_page="/account")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
    replay = stolen.get("/account")
    assert replay.status_code == 302 and "/login?next=" in replay.headers["Location"]
    assert db.session.scalar(select(WebSession.revoked_at)) is not None


def test_logout_needs_the_form_key(client):
    log_in(client, make_user())
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_a_page_sends_the_logged_out_reader_to_log_in_and_back(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account"


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1", "/ok\tthere", "evil.example", "",
    "/" + "a" * 600,
])
def test_next_never_leads_off_the_site(client, target):
    assert safe_next(target) == "/"
    user = make_user()
    token = csrf_token(client)
    response = client.post("/login", query_string={"next": target},
                           data={"csrf_token": token, "login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_next_on_the_site_is_followed(client):
    assert safe_next("/s/abc?x=1") == "/s/abc?x=1"
    user = make_user()
    token = csrf_token(client)
    response = client.post("/login", query_string={"next": "/account?tab=1"},
                           data={"csrf_token": token, "login": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account?tab=1"


def test_the_login_page_and_the_api_share_one_allowance_per_account(client):
    user = make_user(email="guess@example.org")
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json={"login": user.email, "password": "x"}
                           ).status_code == 401
    for _ in range(2):
        assert post_form(client, "/login", {"login": user.email, "password": "x"}
                         ).status_code == 401
    refused = post_form(client, "/login", {"login": user.email, "password": PASSWORD})
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert "ลองบ่อยเกินไป" in text(refused) and "Retry-After" in refused.headers
    assert_error(client.post("/api/v1/auth/login", json={"login": user.email,
                                                         "password": PASSWORD}), 429,
                 "rate_limited")
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_showing_the_login_page_tries_no_password_and_is_not_counted(client):
    user = make_user()
    for _ in range(8):
        assert client.get("/login").status_code == 200
    log_in(client, user)


def test_registering_on_the_page_logs_in_a_resident(client):
    response = post_form(client, "/register", {
        "login": "081-234 5678", "display_name": "มะลิ", "password": "long enough pw"})
    assert response.status_code == 302
    from ecolife.users.models import User

    user = db.session.scalar(select(User))
    assert (user.phone, user.role, user.display_name) == ("+66812345678", "resident", "มะลิ")
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize("fields, field, message", [
    ({"login": "not a phone", "display_name": "A", "password": "long enough"}, "login",
     "เบอร์โทรศัพท์ไม่ถูกต้อง"),
    ({"login": "a@b", "display_name": "A", "password": "long enough"}, "login",
     "อีเมลไม่ถูกต้อง"),
    ({"login": "0812345678", "display_name": "A", "password": "short"}, "password",
     "ต้องยาว 8 ถึง 128 ตัวอักษร"),
    ({"login": "0812345678", "password": "long enough"}, "display_name", "กรุณากรอกช่องนี้"),
    ({"login": "0812345678", "display_name": "A\u202e", "password": "long enough"},
     "display_name", "ต้องไม่มีอักขระควบคุมทิศทางข้อความ"),
    ({"login": "0812345678", "display_name": "A\x00", "password": "long enough"},
     "display_name", "มีอักขระที่ใช้ไม่ได้"),
    ({"login": "0812345678", "display_name": "A", "password": "long enough",
      "community_id": "99"}, "community_id", "ไม่พบชุมชนนี้"),
])
def test_a_refused_registration_says_why_in_thai_and_writes_nothing(client, fields, field,
                                                                     message):
    from ecolife.users.models import User

    response = post_form(client, "/register", fields)
    assert response.status_code == 422, text(response)
    assert f'id="e-{field}"' in text(response) and message in text(response)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_taken_login_is_refused_on_the_page(client):
    make_user(phone="+66812345678", email=None)
    response = post_form(client, "/register", {"login": "0812345678", "display_name": "B",
                                               "password": "long enough"})
    assert response.status_code == 409 and "ลงทะเบียนแล้ว" in text(response)


def test_the_api_still_refuses_form_bodies_even_with_a_session(client):
    log_in(client, make_user())
    response = client.post("/api/v1/auth/login", data={"login": "x", "password": "y"})
    assert_error(response, 415, "unsupported_media_type")
    me = client.get("/api/v1/me")  # the cookie is no bearer token
    assert_error(me, 401, "unauthorized")


def test_ended_web_sessions_are_purged_and_live_ones_kept(app, client):
    log_in(client, make_user())
    post_form(client, "/logout", {}, form_page="/account")
    other = app.test_client()
    log_in(other, make_user())
    result = app.test_cli_runner().invoke(args=["purge-web-sessions"])
    assert result.exit_code == 0 and "purged 1 web sessions" in result.output
    assert other.get("/account").status_code == 200
