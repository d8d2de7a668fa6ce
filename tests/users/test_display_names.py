"""Display names are shown to other users (leaderboards): no control or bidi tricks."""
import pytest

from ecolife.extensions import db
from ecolife.users.models import User
from tests.factories import assert_error, auth, make_user

BAD = [
    pytest.param("Som\x00chai", id="nul"),
    pytest.param("Som\nchai", id="newline"),
    pytest.param("Som\tchai", id="tab"),
    pytest.param("\x1b[31mred", id="escape"),
    pytest.param("Som\x85chai", id="c1-control"),
    pytest.param("\u202egnp.exe", id="rlo-override"),
    pytest.param("a\u202ab", id="lre-embedding"),
    pytest.param("a\u202cb", id="pdf"),
    pytest.param("a\u2066b\u2069", id="lri-isolate"),
    pytest.param("a\u2068b", id="fsi-isolate"),
    pytest.param("a\u200eb", id="lrm-mark"),
    pytest.param("a\u200fb", id="rlm-mark"),
    pytest.param("\u200b", id="zero-width-space-only"),
    pytest.param("\u200b\u200d\u2060\ufeff", id="zero-width-mix-only"),
    pytest.param(" \u3000 ", id="whitespace-only"),
    pytest.param("", id="empty"),
]
GOOD = [
    pytest.param("สมชาย ใจดี", id="thai"),
    pytest.param("น้ำฝน ผู้ใหญ่บ้าน", id="thai-tone-marks"),
    pytest.param("\U0001f469\u200d\U0001f33e นภา", id="zwj-emoji"),
    pytest.param("\U0001f44d\U0001f3fd\u2764\ufe0f\U0001f1f9\U0001f1ed", id="emoji-modifiers-flag"),
    pytest.param("Zoë O'Brien-Smith", id="latin"),
]


def register(client, name):
    return client.post("/api/v1/auth/register", json={
        "email": "name@example.org", "password": "long enough password", "display_name": name})


@pytest.mark.parametrize("name", BAD)
def test_register_refuses_unfit_names(client, name):
    body = assert_error(register(client, name), 422, "validation_error")
    assert list(body["errors"]) == ["display_name"]


@pytest.mark.parametrize("name", BAD)
def test_patch_me_refuses_unfit_names(client, name):
    user = make_user(display_name="Before")
    body = assert_error(client.patch("/api/v1/me", json={"display_name": name},
                                     headers=auth(user)), 422, "validation_error")
    assert list(body["errors"]) == ["display_name"]
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "Before"


@pytest.mark.parametrize("name", GOOD)
def test_ordinary_names_are_kept_as_sent(client, name):
    created = register(client, name)
    assert created.status_code == 201 and created.get_json()["display_name"] == name
    user = make_user()
    patched = client.patch("/api/v1/me", json={"display_name": name}, headers=auth(user))
    assert patched.status_code == 200 and patched.get_json()["display_name"] == name


def test_names_round_trip_unchanged(client):
    # API.md: Thai text round-trips unchanged; NFC would reorder this tone mark and vowel.
    thai = "\u0e1b\u0e48\u0e39 \u0e41\u0e01\u0e49\u0e27"  # ปู่ typed tone first, แก้ว
    created = register(client, thai)
    assert created.status_code == 201 and created.get_json()["display_name"] == thai
    decomposed = "Ame\u0301lie"
    user = make_user()
    patched = client.patch("/api/v1/me", json={"display_name": decomposed}, headers=auth(user))
    assert patched.get_json()["display_name"] == decomposed


def test_length_is_still_limited(client):
    assert_error(register(client, "ก" * 101), 422, "validation_error")
    assert register(client, "ก" * 100).status_code == 201


def test_create_operator_refuses_an_unfit_name(app):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["create-operator", "--email", "op@example.org",
                                  "--password", "long enough", "--name", "\u202eop"])
    assert refused.exit_code == 2 and "bidirectional" in refused.output
    created = runner.invoke(args=["create-operator", "--email", "op@example.org",
                                  "--password", "long enough", "--name", "ผู้ดูแล"])
    assert created.exit_code == 0, created.output
