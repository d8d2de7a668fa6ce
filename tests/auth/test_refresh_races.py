"""Refresh-token families: a replay or a logout revokes every member, even one a rotation
racing it has just issued, and even when the replayed token has expired since."""
import threading
import time
from datetime import timedelta

from sqlalchemy import update

from ecolife.auth import service
from ecolife.auth.models import RefreshToken
from ecolife.auth.tokens import hash_refresh_token
from ecolife.extensions import db
from ecolife.timeutil import utcnow
from tests.factories import PASSWORD, assert_error, make_user



def login(client, user):
    body = {"login": user.email, "password": PASSWORD}
    return client.post("/api/v1/auth/login", json=body).get_json()


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def logout(client, pair):
    return client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]},
                       headers={"Authorization": f"Bearer {pair['access_token']}"})


def test_a_spent_token_replayed_after_it_expired_still_revokes_the_family(client):
    user = make_user()
    spent = login(client, user)["refresh_token"]
    live = refresh(client, spent).get_json()["refresh_token"]
    db.session.execute(update(RefreshToken)
                       .where(RefreshToken.token_hash == hash_refresh_token(spent))
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert_error(refresh(client, spent), 401, "invalid_token")
    assert_error(refresh(client, live), 401, "invalid_token")


def rotate_while(app, client, monkeypatch, token, other_request):
    """Refresh ``token``; while its new pair is inserted but not committed, start
    ``other_request(client)`` in a thread. Returns (rotation's response, other's response)."""
    real_issue, other = service._issue_pair, {}

    def issue_then_race(user, family_id):
        pair = real_issue(user, family_id)
        db.session.flush()

        def run():
            with app.app_context():
                other["response"] = other_request(app.test_client())
        other["thread"] = threading.Thread(target=run)
        other["thread"].start()
        time.sleep(0.5)  # the other request is now waiting for the family
        return pair

    monkeypatch.setattr(service, "_issue_pair", issue_then_race)
    rotated = refresh(client, token)
    monkeypatch.undo()
    other["thread"].join(timeout=30)
    return rotated, other["response"]


def test_a_replay_racing_a_rotation_revokes_what_the_rotation_issued(app, client, monkeypatch):
    user = make_user()
    spent = login(client, user)["refresh_token"]
    latest = refresh(client, spent).get_json()["refresh_token"]
    rotated, replay = rotate_while(app, client, monkeypatch, latest,
                                   lambda other: refresh(other, spent))
    assert rotated.status_code == 200
    assert_error(replay, 401, "invalid_token")
    assert_error(refresh(client, rotated.get_json()["refresh_token"]), 401, "invalid_token")


def test_a_logout_racing_a_rotation_ends_the_session(app, client, monkeypatch):
    user = make_user()
    pair = login(client, user)
    rotated, out = rotate_while(app, client, monkeypatch, pair["refresh_token"],
                                lambda other: logout(other, pair))
    assert rotated.status_code == 200 and out.status_code == 204
    assert_error(refresh(client, rotated.get_json()["refresh_token"]), 401, "invalid_token")


def test_ended_sessions_are_purged_and_live_ones_keep_every_token(app, client):
    from sqlalchemy import func, select

    user = make_user()
    live_spent = login(client, user)["refresh_token"]
    live = refresh(client, live_spent).get_json()["refresh_token"]
    logged_out = login(client, user)
    logout(client, logged_out)
    idle = login(client, user)["refresh_token"]
    db.session.execute(update(RefreshToken)
                       .where(RefreshToken.token_hash == hash_refresh_token(idle))
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["purge-refresh-tokens"])
    assert result.exit_code == 0 and "purged 2 refresh tokens" in result.output
    assert db.session.scalar(select(func.count()).select_from(RefreshToken)) == 2
    assert "purged 0" in app.test_cli_runner().invoke(args=["purge-refresh-tokens"]).output
    # The live family still detects a replay of its spent token; an ended one stays ended.
    assert_error(refresh(client, logged_out["refresh_token"]), 401, "invalid_token")
    assert_error(refresh(client, live_spent), 401, "invalid_token")
    assert_error(refresh(client, live), 401, "invalid_token")
