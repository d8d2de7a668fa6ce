"""GET /leaderboards and /leaderboards/communities over boards fed by real scans.

Scans go through the scan service (tests.gamification.scanning), so the boards are fed by
its publish_credit after each commit, exactly as in production.
"""
from datetime import UTC, timedelta

import fakeredis
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ecolife.communities.models import Community
from ecolife.extensions import db, redis_store
from ecolife.leaderboards import service
from ecolife.scans import service as scans_service
from tests.factories import (assert_error, auth, make_code, make_community, make_shop, make_user,
                             make_village)
from tests.gamification.scanning import scan_at, this_monday, unlimit_actions

MONDAY = this_monday()
BASE = MONDAY + timedelta(minutes=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def code():
    unlimit_actions()
    return make_code(make_shop())  # no_plastic_bag: 5 points


def board(client, user, **query):
    response = client.get("/api/v1/leaderboards", query_string=query, headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ranking(body):
    return [(e["rank"], e["user_id"], e["points"]) for e in body["entries"]]


def dead_redis():
    """A Redis that refuses every connection, at once (no retries)."""
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))


def snapshot():
    """Every live board: members with exact scores, and when each key expires."""
    r = redis_store.client
    keys = sorted(k.decode() for k in r.scan_iter(match=redis_store.prefix + "lb:*"))
    return {k: (r.zrange(k, 0, -1, withscores=True), r.expiretime(k)) for k in keys}


def test_boards_need_a_login_and_a_valid_query(client):
    assert_error(client.get("/api/v1/leaderboards"), 401, "unauthorized")
    resident = make_user()
    for query, field in (({"period": "year"}, "period"), ({"limit": 0}, "limit"),
                         ({"limit": 101}, "limit"), ({"community_id": "x"}, "community_id")):
        response = client.get("/api/v1/leaderboards", query_string=query, headers=auth(resident))
        assert field in assert_error(response, 422, "validation_error")["errors"]
    response = client.get("/api/v1/leaderboards", query_string={"community_id": 999},
                          headers=auth(resident))
    assert_error(response, 404, "unknown_community")


def test_top_n_with_names_and_my_rank_from_outside_the_top(client, code):
    residents = [make_user(display_name=f"ชาวบ้าน {i}") for i in range(1, 13)]
    for i, resident in enumerate(residents, start=1):
        for n in range(i):
            scan_at(resident, code, BASE + timedelta(minutes=n, seconds=i))
    body = board(client, residents[0], period="week", limit=5)
    assert body["period"] == "week" and body["community_id"] is None
    assert body["period_id"] == f"{MONDAY.isocalendar().year}-W{MONDAY.isocalendar().week:02d}"
    assert ranking(body) == [(rank, residents[12 - rank].id, 5 * (13 - rank))
                             for rank in range(1, 6)]
    assert [e["display_name"] for e in body["entries"]] == [f"ชาวบ้าน {i}" for i in (12, 11, 10,
                                                                                         9, 8)]
    assert body["me"] == {"rank": 12, "points": 5}
    assert len(board(client, residents[0])["entries"]) == 10  # default limit, default week
    nobody = board(client, make_user("operator"), period="all")
    assert nobody["me"] == {"rank": None, "points": 0} and len(nobody["entries"]) == 10


def test_equal_points_rank_whoever_got_there_first(client, code):
    first, second = make_user(), make_user()
    scan_at(first, code, BASE)
    scan_at(second, code, BASE + SECOND)
    assert ranking(board(client, first)) == [(1, first.id, 5), (2, second.id, 5)]
    scan_at(second, code, BASE + 2 * SECOND)
    scan_at(first, code, BASE + 3 * SECOND)  # level again, but second got to 10 first
    assert ranking(board(client, first)) == [(1, second.id, 10), (2, first.id, 10)]
    assert board(client, first)["me"] == {"rank": 2, "points": 10}


def test_community_boards_hold_the_members_below_them(client, code):
    village_a = make_village()
    tambon = village_a.parent_id
    village_b = make_community("บ้านน้ำพุ Ban Nam Phu", "village",
                               db.session.get(Community, tambon))
    a, b, loner = (make_user(community_id=village_a.id), make_user(community_id=village_b.id),
                   make_user())
    for i, user in enumerate((a, b, loner)):
        for n in range(i + 1):
            scan_at(user, code, BASE + timedelta(minutes=n, seconds=i))
    assert ranking(board(client, a, community_id=village_a.id)) == [(1, a.id, 5)]
    assert ranking(board(client, a, community_id=tambon)) == [(1, b.id, 10), (2, a.id, 5)]
    assert ranking(board(client, a)) == [(1, loner.id, 15), (2, b.id, 10), (3, a.id, 5)]
    assert board(client, loner, community_id=village_a.id)["me"] == {"rank": None, "points": 0}


def test_weeks_turn_at_monday_midnight_bangkok_time(client, code):
    sunday_night, monday_morning = MONDAY - timedelta(minutes=1), MONDAY + timedelta(minutes=1)
    # In UTC both are Sunday afternoon of the same ISO week: only local time tells them apart.
    assert sunday_night.astimezone(UTC).isocalendar()[:2] == \
        monday_morning.astimezone(UTC).isocalendar()[:2]
    late, early = make_user(), make_user()
    scan_at(late, code, sunday_night)
    scan_at(early, code, monday_morning)
    last_week = service.read_board(late, "week", now=sunday_night)
    this_week = service.read_board(late, "week", now=monday_morning)
    assert ranking(last_week) == [(1, late.id, 5)] and last_week["me"]["rank"] == 1
    assert ranking(this_week) == [(1, early.id, 5)] and this_week["me"]["rank"] is None
    assert last_week["period_id"] != this_week["period_id"]
    assert ranking(board(client, late, period="week")) == [(1, early.id, 5)]
    assert ranking(board(client, late, period="all")) == [(1, late.id, 5), (2, early.id, 5)]


def test_a_rebuild_gives_back_exactly_the_live_boards(app, client, code):
    village, other = make_village(), make_village()
    users = [make_user(community_id=c) for c in (village.id, village.id, other.id, None)]
    times = [MONDAY - timedelta(days=40, hours=3), MONDAY - timedelta(days=3), BASE]
    shop = make_shop()
    codes = [code, make_code(shop, "no_straw"), make_code(shop, "own_cup")]
    for t, at in enumerate(times):
        for u, user in enumerate(users):
            for n in range((u + t) % 3 + 1):
                scan_at(user, codes[(u + n) % 3], at + timedelta(minutes=n, seconds=u))
    live = snapshot()
    assert len(live) > 10
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rebuild-leaderboards"])
    assert result.exit_code == 0 and "rebuilt" in result.output, result.output
    assert snapshot() == live
    redis_store.client.delete(*live)  # from nothing, the same again
    runner.invoke(args=["rebuild-leaderboards"])
    assert snapshot() == live


@pytest.mark.parametrize("correction", [0, 50])
def test_a_rebuild_credits_the_village_of_the_credit_even_after_a_move(client, code,
                                                                       correction):
    # The scan's village is on the scan; an operator's correction's on its ledger entry.
    first, second = make_village(), make_village()
    resident = make_user(community_id=first.id)
    scan_at(resident, code, BASE)
    if correction:
        adjust(client, resident, correction, "Broken kiosk")
    moved = client.patch("/api/v1/me", json={"community_id": second.id}, headers=auth(resident))
    assert moved.status_code == 200
    live = snapshot()
    service.rebuild_boards()
    assert snapshot() == live
    assert ranking(board(client, resident, period="all", community_id=first.id)) == [
        (1, resident.id, 5 + correction)]


def test_scans_while_redis_is_down_are_restored_by_a_rebuild(client, code, monkeypatch):
    resident = make_user(community_id=make_village().id)
    scan_at(resident, code, BASE)
    with monkeypatch.context() as down:
        down.setattr(redis_store, "client", dead_redis())
        result = scan_at(resident, code, BASE + SECOND)  # committed, Redis failure only logged
        assert result["balance"] == 10
        assert_error(client.get("/api/v1/leaderboards", headers=auth(resident)), 503,
                     "leaderboard_unavailable")
        assert_error(client.get("/api/v1/leaderboards/communities"), 503,
                     "leaderboard_unavailable")
    assert board(client, resident)["me"] == {"rank": 1, "points": 5}
    service.rebuild_boards()
    assert board(client, resident)["me"] == {"rank": 1, "points": 10}


def test_communities_rank_by_points_per_member(client, code):
    big = make_village()
    tambon_id = big.parent_id
    tambon = db.session.get(Community, tambon_id)
    small = make_community("บ้านน้ำพุ Ban Nam Phu", "village", tambon)
    empty = make_community("บ้านใหม่ New village", "village", tambon)
    big_members = [make_user(community_id=big.id) for _ in range(3)]
    small_member = make_user(community_id=small.id)
    make_user("shop_owner", community_id=small.id)  # not a resident: not a member
    for i, user in enumerate(big_members):
        scan_at(user, code, BASE + i * SECOND)  # 15 points, 3 members: 5 each
    for n in range(2):
        scan_at(small_member, code, BASE + timedelta(minutes=1, seconds=n))  # 10 points, 1
    response = client.get("/api/v1/leaderboards/communities", query_string={"period": "week"})
    assert response.status_code == 200 and "X-Pagination" in response.headers
    assert [(c["rank"], c["community_id"], c["points"], c["members"], c["points_per_member"])
            for c in response.get_json()] == [
        (1, small.id, 10, 1, 10.0), (2, big.id, 15, 3, 5.0), (3, empty.id, 0, 0, 0.0)]
    tambons = client.get("/api/v1/leaderboards/communities",
                         query_string={"kind": "tambon", "period": "all"}).get_json()
    assert [(c["community_id"], c["points"], c["members"], c["points_per_member"])
            for c in tambons] == [(tambon_id, 25, 4, 6.25)]
    page = client.get("/api/v1/leaderboards/communities",
                      query_string={"page": 2, "page_size": 2}).get_json()
    assert [(c["rank"], c["community_id"]) for c in page] == [(3, empty.id)]
    response = client.get("/api/v1/leaderboards/communities", query_string={"kind": "city"})
    assert "kind" in assert_error(response, 422, "validation_error")["errors"]


def test_an_embedded_redis_is_filled_from_the_ledger_on_the_first_read(app, client, code,
                                                                        monkeypatch):
    # `make run` again: a new process, a new empty in-memory Redis, the same database.
    resident, village = make_user(), make_community("บ้านหนองเงือก", "village")
    resident.community_id = village.id
    db.session.commit()
    scan_at(resident, code, BASE)
    state = app.extensions["ecolife_redis"]
    monkeypatch.setitem(state, "client", fakeredis.FakeRedis())
    monkeypatch.setitem(state, "boards_unfilled", True)
    assert ranking(board(client, resident, period="all")) == [(1, resident.id, 5)]
    assert state["boards_unfilled"] is False
    communities = client.get("/api/v1/leaderboards/communities?kind=village&period=all")
    assert communities.get_json()[0]["points"] == 5


@pytest.mark.parametrize("redis_url, unfilled", [(None, True), ("redis://127.0.0.1:1/0", False)])
def test_only_an_embedded_redis_waits_to_be_filled(redis_url, unfilled):
    from flask import Flask

    from config import Config
    from ecolife.extensions import RedisStore

    bare = Flask("check")  # not create_app: that would re-point the shared rate limiter
    bare.config.from_object(Config)
    bare.config["REDIS_URL"] = redis_url
    RedisStore().init_app(bare)
    assert bare.extensions["ecolife_redis"]["boards_unfilled"] is unfilled


def test_a_failed_embedded_fill_is_a_503_and_is_tried_again(app, client, monkeypatch):
    resident = make_user()
    state = app.extensions["ecolife_redis"]
    monkeypatch.setitem(state, "client", dead_redis())
    monkeypatch.setitem(state, "boards_unfilled", True)
    for _ in range(2):
        response = client.get("/api/v1/leaderboards", headers=auth(resident))
        assert_error(response, 503, "leaderboard_unavailable")
    assert state["boards_unfilled"] is True
    monkeypatch.setitem(state, "client", fakeredis.FakeRedis())
    assert board(client, resident)["entries"] == [] and state["boards_unfilled"] is False


def test_an_operators_correction_reaches_the_boards_and_a_rebuild_agrees(client, code):
    village = make_village()
    cheat, honest = make_user(community_id=village.id), make_user(community_id=village.id)
    for i in range(4):
        scan_at(cheat, code, BASE + i * SECOND)
    for i in range(3):
        scan_at(honest, code, BASE + (10 + i) * SECOND)
    operator = make_user("operator")
    taken = client.post(f"/api/v1/users/{cheat.id}/adjustments",
                        json={"delta": -10, "reason": "Duplicate credit"}, headers=auth(operator))
    assert taken.status_code == 201, taken.get_json()
    shop_owner = make_user("shop_owner")
    given = client.post(f"/api/v1/users/{shop_owner.id}/adjustments",
                        json={"delta": 50, "reason": "Counter float"}, headers=auth(operator))
    assert given.status_code == 201  # not a resident: never on a board
    for period in ("week", "all"):
        assert ranking(board(client, cheat, period=period)) == [(1, honest.id, 15),
                                                                 (2, cheat.id, 10)]
        body = board(client, cheat, period=period, community_id=village.id)
        assert body["me"] == {"rank": 2, "points": 10}
    me = client.get("/api/v1/me", headers=auth(cheat)).get_json()
    assert me["lifetime_points"] == 10
    live = snapshot()
    service.rebuild_boards()
    assert snapshot() == live


def adjust(client, user, delta, reason="Duplicate credit"):
    response = client.post(f"/api/v1/users/{user.id}/adjustments",
                           json={"delta": delta, "reason": reason},
                           headers=auth(make_user("operator")))
    assert response.status_code == 201, response.get_json()


def test_a_scan_published_after_a_correction_it_preceded_still_nets_out(client, code,
                                                                        monkeypatch):
    # Each credit is published after its own commit: the scan committed first (+5) but its
    # thread published after the correction (-5). Live and rebuilt boards both net to 0.
    resident = make_user()
    delayed = []
    monkeypatch.setattr(scans_service, "_after_commit", lambda *args: delayed.append(args))
    scan_at(resident, code, BASE)
    monkeypatch.undo()
    adjust(client, resident, -5)
    scans_service._after_commit(*delayed[0])
    live = snapshot()
    assert ranking(board(client, resident, period="week")) == []
    service.rebuild_boards()
    assert snapshot() == live


def test_a_villages_total_is_what_its_members_show(client, code):
    # Last week's duplicate taken back this week: the cheat owes this week 5 and is not shown;
    # the honest neighbour's 5 still count for the village.
    village = make_village()
    cheat, honest = make_user(community_id=village.id), make_user(community_id=village.id)
    scan_at(cheat, code, MONDAY - timedelta(hours=2))
    scan_at(honest, code, BASE)
    adjust(client, cheat, -5)
    week = board(client, honest, period="week", community_id=village.id)
    assert ranking(week) == [(1, honest.id, 5)]
    villages = client.get("/api/v1/leaderboards/communities",
                          query_string={"period": "week", "kind": "village"}).get_json()
    assert next(c for c in villages if c["community_id"] == village.id)["points"] == 5

