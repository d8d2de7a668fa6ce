"""Leaderboard boards over Redis: periods, scopes, ties, reads and rebuild.

Runs on fakeredis by default.  fakeredis needs the `lupa` package for Lua, so without it the
tests that go through `record` are skipped; set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run
everything against a real Redis, where each test uses a random prefix and deletes only its keys.
"""
import importlib.util
import os
import random
import secrets
from datetime import datetime, timedelta, timezone

import fakeredis
import pytest
import redis

from ecolife.leaderboards import boards
from ecolife.leaderboards.boards import BANGKOK, MAX_POINTS

REDIS_URL = os.environ.get("REDIS_URL")
HAS_LUA = bool(REDIS_URL) or importlib.util.find_spec("lupa") is not None

# Anchors near the real clock: EXPIREAT is absolute, so fixed past dates would age out of Redis.
NOW = datetime.now(BANGKOK)
_today = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
MONDAY = _today - timedelta(days=_today.weekday())
MONTH_START = _today.replace(day=1)
MINUTE = timedelta(minutes=1)
VILLAGE_A = [101, 11, 1]  # village 101 in tambon 11 in province 1
VILLAGE_B = [102, 12, 1]


@pytest.fixture(params=[False, True], ids=["bytes", "str"])
def r(request):
    if REDIS_URL:
        client = redis.Redis.from_url(REDIS_URL, decode_responses=request.param)
    else:
        client = fakeredis.FakeRedis(decode_responses=request.param)
    yield client
    client.close()


@pytest.fixture
def prefix(r):
    p = f"test:lb:{secrets.token_hex(6)}:"
    yield p
    keys = list(r.scan_iter(match=p + "*"))
    if keys:
        r.unlink(*keys)


@pytest.fixture(params=["record", "rebuild"])
def write(request, r, prefix):
    """Put credits on the boards either live, one record() each, or by one rebuild()."""
    if request.param == "record" and not HAS_LUA:
        pytest.skip("fakeredis without lupa has no Lua; set REDIS_URL to run against Redis")

    def apply(credits):
        if request.param == "rebuild":
            boards.rebuild(r, prefix, credits, now=datetime.now(timezone.utc), tz=BANGKOK)
        else:
            for user_id, points, at, community_ids in credits:
                boards.record(r, prefix, user_id, points, at, community_ids, BANGKOK)
    return apply


def top(r, prefix, period, now, community_id=None, limit=10):
    return boards.top(r, prefix, period, community_id, now, BANGKOK, limit)


@pytest.mark.parametrize("at, week, month", [
    (datetime(2026, 11, 29, 16, 59, tzinfo=timezone.utc), "2026-W48", "2026-11"),  # Sun 23:59 BKK
    (datetime(2026, 11, 29, 17, 1, tzinfo=timezone.utc), "2026-W49", "2026-11"),   # Mon 00:01 BKK
    (datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc), "2026-W49", "2026-11"),  # Mon 23:30 BKK
    (datetime(2026, 11, 30, 17, 1, tzinfo=timezone.utc), "2026-W49", "2026-12"),   # Dec 1 00:01
    (datetime(2027, 1, 1, 5, 0, tzinfo=timezone.utc), "2026-W53", "2027-01"),      # ISO week-year
])
def test_period_ids_follow_the_local_calendar(at, week, month):
    assert boards.period_key_ids(at, BANGKOK) == {"week": week, "month": month, "all": "all"}


def test_week_boundary_is_monday_midnight_local(r, prefix, write):
    sunday, monday = MONDAY - MINUTE, MONDAY + MINUTE
    write([(1, 5, sunday, []), (2, 7, monday, [])])
    assert top(r, prefix, "week", sunday) == [(1, 1, 5)]
    assert top(r, prefix, "week", monday) == [(1, 2, 7)]
    assert top(r, prefix, "all", monday) == [(1, 2, 7), (2, 1, 5)]


def test_month_boundary_is_first_of_month_local(r, prefix, write):
    last_month, this_month = MONTH_START - MINUTE, MONTH_START + MINUTE
    write([(1, 5, last_month, []), (2, 7, this_month, [])])
    assert top(r, prefix, "month", last_month) == [(1, 1, 5)]
    assert top(r, prefix, "month", this_month) == [(1, 2, 7)]


def test_equal_points_rank_whoever_got_there_first(r, prefix, write):
    t0 = MONDAY + timedelta(hours=1)
    s = timedelta(seconds=1)
    write([
        (1, 10, t0, []), (2, 10, t0 + s, []), (3, 5, t0 + 2 * s, []), (3, 5, t0 + 3 * s, []),
        (4, 20, t0 + 5 * s, []), (5, 20, t0 + 6 * s, []),
        (5, 5, t0 + 9 * s, []), (4, 5, t0 + 10 * s, []),  # 4 was ahead but reached 25 later
    ])
    expected = [(1, 5, 25), (2, 4, 25), (3, 1, 10), (4, 2, 10), (5, 3, 10)]
    assert top(r, prefix, "week", t0) == expected
    assert top(r, prefix, "all", t0) == expected


def test_a_late_published_older_credit_keeps_the_later_time(r, prefix, write):
    # Each scan publishes after its own commit, so user 1's credits can reach Redis out of
    # order; user 1 still reached 10 points after user 2 did.
    t0 = MONDAY + timedelta(hours=1)
    s = timedelta(seconds=1)
    write([(2, 10, t0 + 5 * s, []), (1, 5, t0 + 10 * s, []), (1, 5, t0, [])])
    assert top(r, prefix, "week", t0) == [(1, 2, 10), (2, 1, 10)]


def test_caller_outside_top_n_still_gets_rank(r, prefix, write):
    at = MONDAY + timedelta(hours=2)
    write([(user, 31 - user, at, VILLAGE_A) for user in range(1, 31)])
    entries, me = boards.board(r, prefix, "week", None, 30, at, BANGKOK, limit=5)
    assert entries == [(rank, rank, 31 - rank) for rank in range(1, 6)]
    assert me == (30, 1)
    assert boards.rank_of(r, prefix, "week", 1, 30, at, BANGKOK) == (30, 1)
    absent = boards.board(r, prefix, "week", 1, 99, at, BANGKOK, limit=1)
    assert absent == ([(1, 1, 30)], (None, 0))


def test_community_boards_hold_only_their_members(r, prefix, write):
    at = MONDAY + timedelta(hours=3)
    write([(1, 5, at, VILLAGE_A), (2, 7, at, VILLAGE_B), (3, 3, at, VILLAGE_A)])
    assert top(r, prefix, "week", at, community_id=101) == [(1, 1, 5), (2, 3, 3)]
    assert top(r, prefix, "week", at, community_id=12) == [(1, 2, 7)]
    assert [u for _, u, _ in top(r, prefix, "week", at, community_id=1)] == [2, 1, 3]
    assert [u for _, u, _ in top(r, prefix, "week", at)] == [2, 1, 3]
    assert top(r, prefix, "week", at, community_id=999) == []
    totals = boards.community_totals(r, prefix, "month", [1, 11, 12, 101, 102, 999], at, BANGKOK)
    assert totals == {1: 15, 11: 8, 12: 7, 101: 8, 102: 7, 999: 0}


def test_week_and_month_boards_expire_all_time_does_not(r, prefix, write):
    at = MONDAY + timedelta(hours=4)
    write([(1, 5, at, [7])])
    next_monday = int((MONDAY + timedelta(days=7)).timestamp())
    week_key = boards.board_key(prefix, "week", 7, at, BANGKOK)
    assert r.expiretime(week_key) == next_monday + 70 * 86400
    assert r.expiretime(boards.board_key(prefix, "month", None, at, BANGKOK)) > next_monday
    assert r.ttl(boards.board_key(prefix, "all", None, at, BANGKOK)) == -1


def _all_boards(r, prefix):
    """Every board under prefix as {suffix: (members with exact scores, expiretime)}."""
    out = {}
    for key in r.scan_iter(match=prefix + "*"):
        key = key.decode() if isinstance(key, bytes) else key
        rows = [(str(int(m)), int(s)) for m, s in r.zrange(key, 0, -1, withscores=True)]
        out[key[len(prefix):]] = (sorted(rows), r.expiretime(key))
    return out


@pytest.mark.skipif(not HAS_LUA, reason="record() needs Lua: install lupa or set REDIS_URL")
def test_rebuild_gives_exactly_the_live_scores_whatever_order_credits_arrived_in(r, prefix):
    # Each credit is published after its own commit, so live ones arrive out of order; the
    # rebuild replays them in ledger order. Corrections (negative) included.
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=100)  # oldest weeks have already expired: both paths drop them
    times = sorted(start + timedelta(seconds=rng.randrange(100 * 86400)) for _ in range(400))
    villages = [VILLAGE_A, VILLAGE_B, [103, 12, 1], []]
    credits = [(rng.randrange(1, 40),
                rng.choice([1, 2, 5, 10]) * (-3 if rng.random() < 0.2 else 1),
                at, villages[u % 4])
               for at in times for u in [rng.randrange(4)]]
    credits += [(500, MAX_POINTS, now, [1]), (500, 9, now, [1])]  # saturates, identically
    live, rebuilt = prefix + "live:", prefix + "rebuilt:"
    arrival = credits[:]
    rng.shuffle(arrival)
    for credit in arrival:
        boards.record(r, live, *credit, BANGKOK)
    boards.rebuild(r, rebuilt, credits, now=now, tz=BANGKOK)
    assert _all_boards(r, rebuilt) == _all_boards(r, live)
    assert top(r, live, "all", now, limit=1) == [(1, 500, MAX_POINTS)]


def test_rebuild_replaces_live_boards_and_removes_stale_keys(r, prefix):
    at = MONDAY + timedelta(hours=5)
    r.zadd(f"{prefix}lb:week:2020-W01:g", {"9": 1})
    r.zadd(f"{prefix}lb:all:c:555", {"42": 1})
    r.zadd(f"{prefix}lb:all:g", {"42": 1, "1": 99})
    r.set(f"{prefix}not-a-board", "kept")
    written = boards.rebuild(r, prefix, [(1, 3, at, [7])], now=at, tz=BANGKOK)
    assert written == 9  # 3 periods x (global + community 7 + communities totals)
    assert top(r, prefix, "all", at) == [(1, 1, 3)]
    assert r.exists(f"{prefix}lb:week:2020-W01:g", f"{prefix}lb:all:c:555") == 0
    assert r.get(f"{prefix}not-a-board") in (b"kept", "kept")
    assert list(r.scan_iter(match=prefix + "lbtmp:*")) == []


def test_rebuild_leaves_a_neighbouring_prefix_alone(r, prefix):
    mine, neighbour = prefix + "a?", prefix + "ab"  # unescaped, "a?" would match "ab"
    r.zadd(f"{neighbour}lb:all:g", {"1": 1})
    boards.rebuild(r, mine, [], now=NOW, tz=BANGKOK)
    assert r.exists(f"{neighbour}lb:all:g") == 1


def test_encoded_scores_stay_exact_in_a_double():
    first = datetime(2024, 1, 1, tzinfo=timezone.utc)
    last = datetime(2160, 2, 7, tzinfo=timezone.utc)
    top_score = boards.encode_score(MAX_POINTS, first)
    assert top_score == 2**53 - 1 and int(float(top_score)) == top_score
    assert boards.decode_points(float(top_score)) == MAX_POINTS
    assert boards.encode_score(5, first) > boards.encode_score(5, first + timedelta(seconds=1))
    assert boards.encode_score(5, first - timedelta(days=9)) == boards.encode_score(5, first)
    assert boards.encode_score(5, last + timedelta(days=999)) == 5 * 2**32  # tie-break clamps


@pytest.mark.parametrize("points", [0, MAX_POINTS + 1, -MAX_POINTS - 1, 1.5])
def test_record_takes_only_non_zero_integer_points(r, prefix, points):
    with pytest.raises(ValueError):
        boards.record(r, prefix, 1, points, NOW, [], BANGKOK)
    with pytest.raises(ValueError):
        boards.rebuild(r, prefix, [(1, points, NOW, [])], now=NOW, tz=BANGKOK)


def test_bad_arguments_raise_value_error(r, prefix):
    with pytest.raises(ValueError):
        boards.top(r, prefix, "year", None, NOW, BANGKOK, 10)
    with pytest.raises(ValueError):
        boards.board(r, prefix, "day", None, 1, NOW, BANGKOK, 10)
    with pytest.raises(ValueError):
        boards.community_totals(r, prefix, "decade", [1], NOW, BANGKOK)
    with pytest.raises(ValueError):
        boards.top(r, prefix, "week", None, NOW, BANGKOK, 0)  # ZREVRANGE 0 -1 is everything
    with pytest.raises(ValueError):
        boards.record(r, prefix, 1, 5, datetime(2026, 11, 30, 12, 0), [], BANGKOK)  # naive


def test_a_deduction_lowers_a_user_and_below_zero_they_are_not_shown(write, r, prefix):
    at = MONDAY + timedelta(hours=9)
    write([
        (1, 20, at, VILLAGE_A), (2, 15, at + MINUTE, VILLAGE_A),
        (1, -10, at + 2 * MINUTE, VILLAGE_A),   # a duplicate credit taken back: 1 falls below 2
        (3, 5, at + 3 * MINUTE, VILLAGE_B),
        (3, -8, at + 4 * MINUTE, VILLAGE_B),    # more than they earned this week: not shown
        (4, -5, at + 5 * MINUTE, VILLAGE_B),    # never credited this week: not shown
        (3, 2, at + 6 * MINUTE, VILLAGE_B),     # -1: still owes the week a point
    ])
    now = at + 10 * MINUTE
    assert top(r, prefix, "week", now) == [(1, 2, 15), (2, 1, 10)]
    assert top(r, prefix, "week", now, community_id=101) == [(1, 2, 15), (2, 1, 10)]
    assert top(r, prefix, "week", now, community_id=102) == []
    for user_id in (3, 4):
        assert boards.rank_of(r, prefix, "week", None, user_id, now, BANGKOK) == (None, 0)
    _, me = boards.board(r, prefix, "week", None, 1, now, BANGKOK, limit=1)
    assert me == (2, 10)
    # A community's total is what its members show: village 102's -1 and -5 take nothing
    # from the province's honest 25.
    totals = boards.community_totals(r, prefix, "week", [101, 102, 11, 12, 1], now, BANGKOK)
    assert totals == {101: 25, 102: 0, 11: 25, 12: 0, 1: 25}
