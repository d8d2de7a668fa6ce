"""Idempotency-Key on POST /scans: replay, reuse with another body, in flight, and faults."""
import hashlib

import pytest
from sqlalchemy import func, select

from ecolife.extensions import db, redis_store
from ecolife.gamification import service as gamification
from ecolife.idempotency.models import IdempotencyKey
from tests.factories import assert_error, auth, make_code, make_shop, make_user
from tests.scans.helpers import dead_redis, scan, written


def keyed(key):
    return {"Idempotency-Key": key}


def test_a_retry_with_the_same_key_replays_the_first_response(client, clock):
    resident = make_user()
    code = make_code(make_shop())
    first = scan(client, resident, code, headers=keyed("scan-1"))
    assert first.status_code == 201
    clock.advance(minutes=1)  # within the cooldown: only a replay can answer 201
    again = scan(client, resident, code, headers=keyed("scan-1"))
    assert again.status_code == 201
    assert again.get_data() == first.get_data()  # the same bytes, not only the same JSON
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert written(resident.id) == (1, 1, 1)
    stored = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "scan-1"))
    assert (stored.user_id, stored.response_status) == (resident.id, 201)


def test_the_same_key_with_another_body_is_refused(client):
    resident = make_user()
    shop = make_shop()
    first, second = make_code(shop), make_code(shop, "no_straw")
    assert scan(client, resident, first, headers=keyed("k")).status_code == 201
    assert_error(scan(client, resident, second, headers=keyed("k")), 422,
                 "idempotency_key_reused")
    assert written(resident.id) == (1, 1, 1)


def test_keys_belong_to_one_user(client):
    shop = make_shop()
    code = make_code(shop)
    alice, bob = make_user(), make_user()
    a = scan(client, alice, code, headers=keyed("same"))
    b = scan(client, bob, code, headers=keyed("same"))
    assert a.status_code == b.status_code == 201
    assert b.get_json()["id"] != a.get_json()["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_a_key_still_in_flight_is_a_conflict(client):
    resident = make_user()
    code = make_code(make_shop())
    marker = redis_store.key("idem", resident.id, hashlib.sha256(b"busy").hexdigest())
    redis_store.client.set(marker, 1, ex=30)
    assert_error(scan(client, resident, code, headers=keyed("busy")), 409, "idempotency_conflict")
    assert written() == (0, 0, 0)


def test_a_refusal_is_the_first_response_and_is_replayed(client, clock):
    """API.md: the first response (status and body) is replayed, a refusal included."""
    resident = make_user()
    code = make_code(make_shop())
    assert scan(client, resident, code).status_code == 201
    refused = scan(client, resident, code, headers=keyed("later"))
    first = assert_error(refused, 429, "cooldown")
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
    clock.advance(minutes=15, seconds=1)
    again = scan(client, resident, code, headers=keyed("later"))
    assert again.status_code == 429 and again.get_data() == refused.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Retry-After"] == str(first["retry_after"])
    # The same key with another body is refused; a new key is a new attempt.
    other = client.post("/api/v1/scans", json={"token": "x" * 24}, headers=auth(resident, **{
        "Idempotency-Key": "later"}))
    assert_error(other, 422, "idempotency_key_reused")
    fresh = scan(client, resident, code, headers=keyed("a new attempt"))
    assert fresh.status_code == 201 and fresh.get_json()["balance"] == 10
    assert written()[0] == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_malformed_keys_are_422(client, key):
    resident = make_user()
    code = make_code(make_shop())
    assert_error(scan(client, resident, code, headers=keyed(key)), 422, "validation_error")
    assert written() == (0, 0, 0)


def test_a_fault_before_the_commit_writes_nothing_not_even_the_key(client, monkeypatch):
    resident = make_user()
    code = make_code(make_shop())

    def broken(*args, **kwargs):
        raise RuntimeError("the badge service fell over")

    monkeypatch.setattr(gamification, "on_credit", broken)
    assert_error(scan(client, resident, code, headers=keyed("f")), 500, "internal_error")
    assert written() == (0, 0, 0)  # read by the test's own session: the request's is gone
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    monkeypatch.undo()
    # Nothing half-done: the retry is a first attempt, not a cooldown or a replay.
    response = scan(client, resident, code, headers=keyed("f"))
    assert response.status_code == 201 and response.get_json()["balance"] == 5
    assert "Idempotent-Replayed" not in response.headers


def first_look_misses(monkeypatch):
    """Make the decorator's first look at a key miss, as if it came just before the first
    attempt committed; later looks are real. Returns the list of looks made."""
    from ecolife.idempotency import service as idempotency

    real_lookup, calls = idempotency._lookup, []

    def late_first_look(user_id, key):
        calls.append(key)
        return None if len(calls) == 1 else real_lookup(user_id, key)

    monkeypatch.setattr(idempotency, "_lookup", late_first_look)
    return calls


def test_a_retry_racing_the_first_attempts_commit_is_a_replay_not_a_cooldown(client, monkeypatch):
    """The retry's first look at the key came just before the first attempt committed, so it
    runs on towards the cooldown the first attempt started: the look under the user's lock
    must replay. (Redis down: no in-flight marker answers first.)"""
    resident = make_user()
    code = make_code(make_shop())
    first = scan(client, resident, code, headers=keyed("race"))
    monkeypatch.setattr(redis_store, "client", dead_redis())
    calls = first_look_misses(monkeypatch)
    again = scan(client, resident, code, headers=keyed("race"))
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(calls) == 2  # the decorator's look, then the one under the lock
    assert written(resident.id) == (1, 1, 1)


def test_a_retry_meeting_a_finished_twins_marker_replays_it(client, monkeypatch):
    """A request that stored its answer leaves its in-flight marker to expire: a retry whose
    first look missed the answer finds the marker taken, looks again and replays."""
    resident = make_user()
    code = make_code(make_shop())
    first = scan(client, resident, code, headers=keyed("twin"))
    first_look_misses(monkeypatch)
    again = scan(client, resident, code, headers=keyed("twin"))
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert written(resident.id) == (1, 1, 1)


def test_a_refusal_before_the_lock_is_kept_under_its_key_too(client):
    """A forged token is refused before any lock; its answer is still the key's first response:
    replayed for the same body, and the key cannot carry another body afterwards."""
    resident = make_user()
    code = make_code(make_shop())
    forged = client.post("/api/v1/scans", json={"token": "A" * 24},
                         headers=auth(resident, **keyed("forged")))
    assert_error(forged, 404, "unknown_code")
    again = client.post("/api/v1/scans", json={"token": "A" * 24},
                        headers=auth(resident, **keyed("forged")))
    assert again.get_data() == forged.get_data() and again.status_code == 404
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_error(scan(client, resident, code, headers=keyed("forged")), 422,
                 "idempotency_key_reused")
    assert written() == (0, 0, 0)


def test_a_state_refusal_is_replayed_after_the_state_changes(client):
    resident = make_user()
    shop = make_shop(status="suspended")
    code = make_code(shop)
    assert_error(scan(client, resident, code, headers=keyed("k-shop")), 403, "shop_not_active")
    shop.status = "approved"
    db.session.commit()
    again = scan(client, resident, code, headers=keyed("k-shop"))
    assert_error(again, 403, "shop_not_active")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert written() == (0, 0, 0)
    assert scan(client, resident, code, headers=keyed("k-new")).status_code == 201


def test_a_body_that_fails_validation_keeps_nothing(client):
    # No work began: the client may correct the body and send it under the same key.
    resident = make_user()
    code = make_code(make_shop())
    invalid = client.post("/api/v1/scans", json={}, headers=auth(resident, **keyed("k-fix")))
    assert_error(invalid, 422, "validation_error")
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert scan(client, resident, code, headers=keyed("k-fix")).status_code == 201


def test_a_refusal_for_a_caller_who_is_gone_keeps_nothing(client):
    # No account, no key to keep: the refusal stands as it is (not a 409 from the key's FK).
    resident = make_user()
    headers = auth(resident, **keyed("k-gone"))
    db.session.delete(resident)
    db.session.commit()
    response = client.post("/api/v1/scans", json={"token": "A" * 24}, headers=headers)
    assert_error(response, 404, "unknown_code")
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
