"""/shops/{id}/codes: who makes, sees and revokes a shop's QR codes."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from ecolife.actions.models import Action
from ecolife.audit.models import AuditEntry
from ecolife.codes import service, tokens
from ecolife.codes.keys import qr_keys
from ecolife.codes.models import QrCode
from ecolife.extensions import db
from tests.codes.helpers import BASE, codes_url
from tests.factories import assert_error, auth, make_code, make_shop, make_user


def code_count():
    return db.session.scalar(select(func.count()).select_from(QrCode))


# Making codes


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 401), ("resident", 403), ("owner", 201), ("other_owner", 404),
     ("operator", 201)],
)
def test_owner_or_operator_makes_codes(client, people, shop, role, status):
    response = client.post(codes_url(shop), json={"action": "no_straw", "mode": "static"},
                           headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    if status == 404:
        assert response.get_json()["error"] == "unknown_shop"  # not "exists but not yours"
    if status != 201:
        assert code_count() == 0
        return
    code = response.get_json()
    assert code["action"] == "no_straw" and code["mode"] == "static" and code["active"] is True
    assert code["shop_id"] == shop.id and code["expires_at"] is None
    assert code["url"].startswith(BASE)
    assert service.resolve_token(code["url"].removeprefix(BASE)).id == code["id"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "code.create"))
    assert entry.actor_id == people[role].id and entry.target_id == str(code["id"])


def test_rotating_code_carries_its_window(client, people, shop, clock):
    now = clock(datetime(2025, 6, 1, 3, 0, 10, tzinfo=UTC))
    response = client.post(codes_url(shop), json={"action": "own_cup", "mode": "rotating"},
                           headers=auth(people["owner"]))
    code = response.get_json()
    assert response.status_code == 201 and code["mode"] == "rotating"
    assert code["expires_at"] == "2025-06-01T03:01:00+00:00"  # step 03:00:00 + 2 steps
    assert service.resolve_token(code["url"].removeprefix(BASE), now).id == code["id"]
    assert db.session.get(QrCode, code["id"]).secret is not None


def test_mode_defaults_to_static(client, people, shop):
    response = client.post(codes_url(shop), json={"action": "refill"},
                           headers=auth(people["owner"]))
    assert response.status_code == 201 and response.get_json()["mode"] == "static"


@pytest.mark.parametrize("role", ["owner", "operator"])
@pytest.mark.parametrize("state", ["pending", "suspended"])
def test_no_codes_for_a_pending_or_suspended_shop(client, people, role, state):
    shop = make_shop(people["owner"], status=state)
    response = client.post(codes_url(shop), json={"action": "no_straw"}, headers=auth(people[role]))
    assert state in assert_error(response, 403, "shop_not_active")["message"]
    assert code_count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"action": "fly_to_the_moon"}, "action"),
        ({"action": "NO STRAW"}, "action"),
        ({}, "action"),
        ({"action": "no_straw", "mode": "dynamic"}, "mode"),
        ({"action": "no_straw", "secret": "abc"}, "secret"),
        ({"action": "no_straw", "shop_id": 2}, "shop_id"),
    ],
)
def test_bad_code_requests_are_422(client, people, shop, body, field):
    response = client.post(codes_url(shop), json=body, headers=auth(people["owner"]))
    assert field in assert_error(response, 422, "validation_error")["errors"]
    assert code_count() == 0


def test_no_codes_for_an_inactive_action(client, people, shop):
    db.session.scalar(select(Action).where(Action.slug == "no_foam")).active = False
    db.session.commit()
    response = client.post(codes_url(shop), json={"action": "no_foam"},
                           headers=auth(people["owner"]))
    assert_error(response, 403, "action_not_active")
    assert code_count() == 0


# Who manages which codes


ENDPOINTS = [
    ("get", ""), ("get", "/current"), ("get", "/qr.png"), ("get", "/qr.svg"),
    ("get", "/poster"), ("delete", ""),
]


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 401), ("resident", 403), ("owner", 200), ("other_owner", 404),
     ("operator", 200)],
)
@pytest.mark.parametrize("method, suffix", ENDPOINTS)
def test_only_the_owner_and_operators_manage_a_code(client, people, shop, role, status, method,
                                                    suffix):
    code = make_code(shop, "no_straw")
    request = getattr(client, method)
    response = request(codes_url(shop, code.id) + suffix, headers=auth(people[role]))
    if status == 200 and method == "delete":
        status = 204
    assert response.status_code == status, response.get_json()
    if status >= 400:
        assert response.get_json()["code"] == status
    db.session.expire_all()
    assert db.session.get(QrCode, code.id).active is (method != "delete" or status != 204)


@pytest.mark.parametrize(
    "role, status",
    [("anonymous", 401), ("resident", 403), ("owner", 200), ("other_owner", 404),
     ("operator", 200)],
)
def test_only_the_owner_and_operators_list_codes(client, people, shop, role, status):
    made = [make_code(shop, "no_straw").id, make_code(shop, "own_cup", "rotating").id]
    make_code(make_shop(people["other_owner"]))
    response = client.get(codes_url(shop), headers=auth(people[role]))
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert [c["id"] for c in response.get_json()] == made
        assert response.headers["X-Pagination"]


def test_a_code_is_only_reachable_through_its_own_shop(client, people, shop):
    """Owner B's code through owner A's shop id: 404 even for an operator."""
    theirs = make_code(make_shop(people["other_owner"]))
    for who in ("owner", "operator"):
        for method, suffix in ENDPOINTS:
            response = getattr(client, method)(codes_url(shop, theirs.id) + suffix,
                                               headers=auth(people[who]))
            assert_error(response, 404, "unknown_code")
    assert db.session.get(QrCode, theirs.id).active


def test_unknown_shop_and_code(client, people, shop):
    operator = auth(people["operator"])
    assert_error(client.get("/api/v1/shops/999/codes", headers=operator), 404, "unknown_shop")
    assert_error(client.get(codes_url(shop, 999), headers=operator), 404, "unknown_code")


# Revoking


def test_revocation_is_permanent(client, people, shop):
    code = make_code(shop)
    token = service.current_token(code)
    owner, operator = auth(people["owner"]), auth(people["operator"])
    assert client.delete(codes_url(shop, code.id), headers=owner).status_code == 204
    revoked = client.get(codes_url(shop, code.id), headers=owner).get_json()
    assert revoked["active"] is False and revoked["url"] is None and revoked["revoked_at"]
    for suffix in ("current", "qr.png", "qr.svg", "poster"):
        assert_error(client.get(codes_url(shop, code.id, suffix), headers=owner), 410,
                     "code_revoked")
    with pytest.raises(service.CodeRevoked):
        service.resolve_token(token)
    # Deleting again is a no-op 204; suspending and re-approving the shop brings nothing back.
    assert client.delete(codes_url(shop, code.id), headers=operator).status_code == 204
    client.post(f"/api/v1/shops/{shop.id}/suspend", headers=operator)
    client.post(f"/api/v1/shops/{shop.id}/approve", headers=operator)
    with pytest.raises(service.CodeRevoked):
        service.resolve_token(token)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "code.revoke")).all()
    assert [(e.actor_id, e.target_id) for e in entries] == [(people["owner"].id, str(code.id))]


def test_revoking_refuses_a_body_with_fields(client, people, shop):
    code = make_code(shop)
    response = client.delete(codes_url(shop, code.id), json={"reason": "lost"},
                             headers=auth(people["owner"]))
    assert_error(response, 422, "validation_error")
    db.session.expire_all()
    assert db.session.get(QrCode, code.id).active is True

def test_list_filters_on_active(client, people, shop):
    live, dead = make_code(shop), make_code(shop, "no_straw")
    owner = auth(people["owner"])
    client.delete(codes_url(shop, dead.id), headers=owner)
    def listed(active):
        response = client.get(codes_url(shop) + f"?active={active}", headers=owner)
        return [c["id"] for c in response.get_json()]

    assert listed("true") == [live.id] and listed("false") == [dead.id]


def test_suspension_pauses_codes_and_approval_restores_them(client, people, shop):
    code = make_code(shop)
    token = service.current_token(code)
    operator = auth(people["operator"])
    client.post(f"/api/v1/shops/{shop.id}/suspend", headers=operator)
    # Still listed and resolvable (the scan path refuses it as shop_not_active) ...
    assert client.get(codes_url(shop), headers=auth(people["owner"])).get_json()[0]["active"]
    assert service.landing(token)["shop_status_active"] is False
    client.post(f"/api/v1/shops/{shop.id}/approve", headers=operator)
    assert service.landing(token)["shop_status_active"] is True


def test_printed_codes_survive_the_move_to_configured_keys(app, client, people, shop,
                                                           monkeypatch):
    """QR_KEYS="1:<new>,0:derived": new codes are signed with the new key, and stickers
    printed under the key derived from SECRET_KEY keep scanning."""
    code = make_code(shop)
    token = service.current_token(code)
    monkeypatch.setitem(app.config, "QR_KEYS", {"1": "n" * 32, "0": "derived"})
    assert service.resolve_token(token).id == code.id
    owner = auth(people["owner"])
    assert client.get(codes_url(shop, code.id), headers=owner).get_json()["url"] == BASE + token
    made = client.post(codes_url(shop), json={"action": "no_straw"}, headers=owner).get_json()
    assert tokens.parse(made["url"].removeprefix(BASE)).kid == "1"


def test_a_sticker_verifies_only_under_the_key_that_signed_it(app, client, people, shop,
                                                              monkeypatch):
    """With the old key kept for old stickers, whoever holds it (it may have leaked) cannot
    sign a code made under the new one."""
    monkeypatch.setitem(app.config, "QR_KEYS", {"1": "n" * 32, "0": "derived"})
    made = client.post(codes_url(shop), json={"action": "no_straw"},
                       headers=auth(people["owner"])).get_json()
    forged = tokens.sign_static(made["id"], qr_keys()["0"], "0")
    with pytest.raises(service.UnknownCode):
        service.resolve_token(forged)
    response = client.post("/api/v1/scans", json={"token": forged},
                           headers=auth(make_user("resident")))
    assert_error(response, 404, "unknown_code")
    assert service.resolve_token(made["url"].removeprefix(BASE)).id == made["id"]


def test_retired_signing_key(app, client, people, shop, monkeypatch):
    """Stickers signed with a kid that is no longer configured stop resolving and printing."""
    code = make_code(shop)
    token = service.current_token(code)
    monkeypatch.setitem(app.config, "QR_KEYS", {"7": "n" * 32})
    with pytest.raises(service.UnknownCode):
        service.resolve_token(token)
    owner = auth(people["owner"])
    assert client.get(codes_url(shop, code.id), headers=owner).get_json()["url"] is None
    assert_error(client.get(codes_url(shop, code.id, "qr.png"), headers=owner), 410,
                 "code_key_retired")
    made = client.post(codes_url(shop), json={"action": "no_straw"}, headers=owner).get_json()
    assert tokens.parse(made["url"].removeprefix(BASE)).kid == "7"
