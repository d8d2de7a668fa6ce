"""Thai first, English one tap away; the API's messages follow Accept-Language; error pages."""
import importlib
import pkgutil
import re

import pytest
from flask_babel import force_locale, gettext

import ecolife
from ecolife.errors import DomainError
from tests.factories import assert_error, make_user
from tests.web.helpers import text


def _domain_errors():
    for module in pkgutil.walk_packages(ecolife.__path__, "ecolife."):
        importlib.import_module(module.name)
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.startswith("ecolife.")]


def test_every_domain_exception_speaks_thai(app):
    with app.test_request_context("/"):
        untranslated = []
        for cls in _domain_errors():
            with force_locale("th"):
                if gettext(cls.message) == cls.message:
                    untranslated.append(f"{cls.__module__}.{cls.__name__}: {cls.message}")
        assert untranslated == []


@pytest.mark.parametrize("header, message", [
    (None, "Wrong login or password."),
    ("en-US,en;q=0.9", "Wrong login or password."),
    ("th-TH,th;q=0.9,en;q=0.5", "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"),
    ("th", "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"),
    ("fr-FR", "Wrong login or password."),
])
def test_api_messages_follow_accept_language_and_codes_never_change(client, header, message):
    user = make_user()
    headers = {"Accept-Language": header} if header else {}
    response = client.post("/api/v1/auth/login", json={"login": user.email, "password": "no"},
                           headers=headers)
    body = assert_error(response, 401, "invalid_credentials")
    assert body["message"] == message


def test_a_framework_refusal_is_translated_too(client):
    response = client.post("/api/v1/auth/login", data="x", content_type="text/plain",
                           headers={"Accept-Language": "th"})
    assert assert_error(response, 415, "unsupported_media_type")["message"].startswith("ส่งข้อมูล")


def test_the_language_cookie_does_not_change_the_api(client):
    client.set_cookie("lang", "th")
    response = client.post("/api/v1/auth/login", json={"login": "a@b.example", "password": "x"})
    assert response.get_json()["message"] == "Wrong login or password."


def test_pages_are_thai_unless_the_browser_or_the_reader_says_otherwise(client):
    assert "เข้าสู่ระบบ" in text(client.get("/login"))
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in text(english) and ">Log in</h1>" in text(english)
    switched = client.get("/lang/th?next=/login", headers={"Accept-Language": "en"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/login"
    assert "lang=th" in switched.headers["Set-Cookie"]
    assert '<html lang="th">' in text(client.get("/login", headers={"Accept-Language": "en"}))


def test_switching_language_never_redirects_off_the_site(client):
    response = client.get("/lang/en?next=//evil.example")
    assert response.headers["Location"] == "/"
    assert "Set-Cookie" not in client.get("/lang/xx").headers


def test_an_unknown_page_is_a_friendly_404_in_the_readers_language(client):
    thai = client.get("/no/such/page")
    assert thai.status_code == 404 and thai.mimetype == "text/html"
    assert "ไม่พบหน้านี้" in text(thai)
    english = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert "We could not find this page" in text(english)
    assert_error(client.get("/api/v1/no/such/thing"), 404, "not_found")


def test_a_crash_on_a_page_is_a_friendly_500(app, client, monkeypatch):
    from ecolife.web import account

    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(account, "village_choices", boom)
    response = client.get("/register", headers={"Accept-Language": "en"})
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Something went wrong on our side" in text(response)
    assert "secret internals" not in text(response)


def test_a_wrong_method_is_an_html_405(client):
    response = client.delete("/login")
    assert response.status_code == 405 and response.mimetype == "text/html"


def test_pages_carry_the_strict_csp_and_no_inline_script_or_style(client):
    for path in ("/", "/login", "/register", "/no/such/page"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        html = text(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path


def test_static_files_are_cached_for_a_year_by_their_versioned_address(client):
    html = text(client.get("/login"))
    href = re.search(r'href="(/static/web/app\.css\?v=[0-9a-f]+)"', html).group(1)
    response = client.get(href)
    assert response.status_code == 200 and "max-age=31536000" in response.headers["Cache-Control"]
    assert "max-age=31536000" not in client.get("/static/web/app.css").headers.get(
        "Cache-Control", "")
