"""Register, login, refresh, logout, /me — the Accounts table of API.md."""
import pytest
from sqlalchemy import func, select

from ecolife.extensions import db
from ecolife.users.models import User
from tests.factories import PASSWORD, assert_error, auth, make_user, make_village


def register(client, **body):
    body.setdefault("password", PASSWORD)
    body.setdefault("display_name", "สมชาย ใจดี")
    return client.post("/api/v1/auth/register", json=body)


def login(client, login, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"login": login, "password": password})


def test_register_resident_with_email_round_trips_thai(client):
    response = register(client, email="Somchai@Example.org")
    assert response.status_code == 201
    user = response.get_json()
    assert user["email"] == "somchai@example.org"
    assert user["display_name"] == "สมชาย ใจดี"
    assert user["role"] == "resident"
    assert "password" not in user and "password_hash" not in user


def test_register_with_phone_and_login_by_phone(client):
    assert register(client, phone="081-234 5678", role="shop_owner").status_code == 201
    response = login(client, "0812345678")
    assert response.status_code == 200
    pair = response.get_json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.get_json()["role"] == "shop_owner"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "a@example.org", "role": "operator"}, "role"),
        ({"email": "a@example.org", "balance": 100}, "balance"),
        ({"display_name": "x"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"email": "a@example.org", "password": "short"}, "password"),
    ],
)
def test_register_refusals_are_422_and_write_nothing(client, body, field):
    body.setdefault("display_name", "x")
    response = register(client, **body)
    errors = assert_error(response, 422, "validation_error")["errors"]
    assert field in errors
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_taken_email_or_phone_is_409(client):
    assert register(client, email="a@example.org", phone="0811111111").status_code == 201
    assert_error(register(client, email="A@example.org"), 409, "already_registered")
    assert_error(register(client, phone="081 111 1111"), 409, "already_registered")
    # One number however it is typed: national, international, with or without the plus.
    for typed in ("+66811111111", "+66 81 111 1111", "66811111111"):
        assert_error(register(client, phone=typed), 409, "already_registered")
    assert login(client, "+66 81-111-1111", "not the password").status_code == 401
    assert login(client, "+66811111111").status_code == 200


def test_phones_stored_before_e164_are_rewritten_by_the_migration(app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from ecolife.extensions import db

    user = make_user(email="old@example.org")
    downgrade(revision="0002")
    db.session.execute(text("UPDATE users SET phone = '0812223333' WHERE id = :id"),
                       {"id": user.id})
    db.session.commit()
    upgrade()
    db.session.expire_all()
    assert db.session.scalar(text("SELECT phone FROM users WHERE id = :id"),
                             {"id": user.id}) == "+66812223333"


def test_register_into_a_village(client):
    village = make_village()
    response = register(client, email="v@example.org", community_id=village.id)
    assert response.get_json()["community_id"] == village.id
    body = assert_error(
        register(client, email="w@example.org", community_id=village.parent_id), 422,
        "validation_error",
    )
    assert "community_id" in body["errors"]


def test_login_wrong_password_and_unknown_login_answer_the_same(client):
    make_user(email="known@example.org")
    wrong = login(client, "known@example.org", "wrong password!")
    unknown = login(client, "nobody@example.org")
    for response in (wrong, unknown):
        assert_error(response, 401, "invalid_credentials")
    assert wrong.get_json() == unknown.get_json()


def test_refresh_rotates_and_reuse_revokes_the_family(client):
    make_user(email="r@example.org")
    first = login(client, "r@example.org").get_json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    # Replaying the spent token is refused and burns the newer one too.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(replay, 401, "invalid_token")
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(after, 401, "invalid_token")


def test_logout_revokes_refresh_token(client):
    user = make_user(email="l@example.org")
    pair = login(client, "l@example.org").get_json()
    response = client.post(
        "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=auth(user)
    )
    assert response.status_code == 204
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_error(again, 401, "invalid_token")


def test_me_shows_balance_level_streak(client):
    user = make_user()
    me = client.get("/api/v1/me", headers=auth(user)).get_json()
    assert me["balance"] == 0 and me["lifetime_points"] == 0
    assert me["level"] == {"number": 1, "name": "Seedling", "points_to_next": 100}
    assert me["streak"] == {"current": 0, "best": 0}
    assert me["expiring"]["points"] == 0


def test_patch_me_changes_name_and_refuses_role_and_balance(client):
    user = make_user()
    ok = client.patch("/api/v1/me", json={"display_name": "นภา"}, headers=auth(user))
    assert ok.status_code == 200 and ok.get_json()["display_name"] == "นภา"
    for body in ({"role": "operator"}, {"balance": 1000}, {"lifetime_points": 5}):
        response = client.patch("/api/v1/me", json=body, headers=auth(user))
        assert_error(response, 422, "validation_error")
    me = client.get("/api/v1/me", headers=auth(user)).get_json()
    assert me["role"] == "resident" and me["balance"] == 0
    assert me["display_name"] == "นภา"  # read back: the change was committed


def test_create_operator_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-operator", "--email", "op@example.org", "--password",
                                 "operator-password"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    pair = login(client, "op@example.org", "operator-password").get_json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.get_json()["role"] == "operator"


def test_thai_text_goes_out_as_utf8_not_escapes(client):
    response = register(client, email="thai@example.org")
    assert "สมชาย ใจดี".encode() in response.data
    assert response.content_type.startswith("application/json")
