"""Redis leaderboards: points earned per week, month and all time, globally and per community.

A credit is signed: scans add, an operator's correction may take away. A user's score holds
the plain signed sum of their credits, so credits may arrive in any order (each is published
after its own commit) and a rebuild still gives the same board; a user whose sum is zero or
below is not shown. A community's total is what its members show: the sum of their points
above zero on that community's board.

Key layout (``P`` is the caller's prefix, ``B`` the board base for a period)::

    B = P + "lb:week:2026-W49" | P + "lb:month:2026-11" | P + "lb:all"
    B:g            zset  user_id -> encoded score, everyone
    B:c:<id>       zset  user_id -> encoded score, members of community <id> (and its descendants)
    B:communities  zset  community_id -> points its members show (their sums above zero)

Score encoding: ``points * 2**32 + (2**32 - 1 - s)`` where ``s`` is whole seconds since
2024-01-01T00:00Z of the credit that brought the user to their current total, so among equal
totals whoever got there first ranks higher.  The whole score stays below 2**53, the range a
double holds exactly, which gives these limits:

- points per user per board: within ±``MAX_POINTS`` = 2**21 - 1 = 2,097,151; a board saturates
  there rather than corrupting the tie-break bits (a single credit above it is a ValueError),
  and once a user's sum has hit that bound the order credits arrived in can matter (a rebuild
  may then differ from the live board: some 400,000 scans' worth in one period);
- credit times: 2024-01-01 .. 2160-02-07 UTC; earlier times tie-break as 2024-01-01, later as
  the end of the range.  Two credits in the same second reaching the same total fall back to
  Redis's member order, which is still deterministic.

Week and month boards expire 70 / 400 days after their period ends, so old periods age out.
All keys of one credit are touched by a single script, so this assumes a non-clustered Redis.
"""
from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

PERIODS = ("week", "month", "all")
BANGKOK = ZoneInfo("Asia/Bangkok")
MAX_POINTS = 2**21 - 1
TIE_SPAN = 2**32  # seconds of tie-break range, and the multiplier for points
EPOCH_2024 = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
KEEP_AFTER_END = {"week": timedelta(days=70), "month": timedelta(days=400)}
BATCH = 10_000
# A crashed rebuild leaves its temporary keys behind; they vanish on their own after this.
TMP_TTL_SECONDS = 86_400

# KEYS: n user boards, then the community boards.
# ARGV: user_id, points (signed), tie, n, MAX_POINTS, c, c community ids, one EXPIREAT per key
# (0 = none).
_RECORD_LUA = """
local user, delta, tie = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n, maxp, nc = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local span = 4294967296
local per = 1 + nc  -- per period: the global board, then one per community
for i = 1, n do
  local pts, t, had = delta, tie, 0
  local old = redis.call('ZSCORE', KEYS[i], user)
  if old then
    old = tonumber(old)
    had = math.floor(old / span)
    pts = pts + had
    -- Credits may arrive out of order (each is published after its own commit): the total
    -- was reached at the latest credit's time, the smaller tie value.
    t = math.min(tie, old % span)
  end
  if pts > maxp then pts = maxp elseif pts < -maxp then pts = -maxp end
  -- %.0f: Lua's default number-to-string keeps only 14 digits, the score needs 16
  redis.call('ZADD', KEYS[i], string.format('%.0f', pts * span + t), user)
  local j = (i - 1) % per
  if j > 0 then
    -- The community's total changes by what this member shows on its board (points above 0).
    local shown = math.max(pts, 0) - math.max(had, 0)
    if shown ~= 0 then
      local totals, community = KEYS[n + 1 + math.floor((i - 1) / per)], ARGV[6 + j]
      if tonumber(redis.call('ZINCRBY', totals, shown, community)) == 0 then
        redis.call('ZREM', totals, community)
      end
    end
  end
end
for i = 1, #KEYS do
  local at = tonumber(ARGV[6 + nc + i])
  if at > 0 then redis.call('EXPIREAT', KEYS[i], at) end
end
"""


def _aware(at: datetime) -> datetime:
    """Reject naive datetimes: astimezone() would silently read them as server-local time."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return at


def _check_period(period: str) -> None:
    """Raise ValueError for anything but week, month or all."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {PERIODS}")


@lru_cache(maxsize=4096)
def _periods(day: date, tz: ZoneInfo) -> tuple[tuple[str, str, int], ...]:
    """(period, id, expire_at or 0) for each period holding local ``day``; cached for replays."""
    iso = day.isocalendar()
    week_end = day + timedelta(days=7 - day.weekday())
    month_end = (day.replace(day=1) + timedelta(days=32)).replace(day=1)

    def expire_at(end: date, period: str) -> int:
        local_end = datetime(end.year, end.month, end.day, tzinfo=tz)
        return int((local_end + KEEP_AFTER_END[period]).timestamp())

    return (("week", f"{iso.year}-W{iso.week:02d}", expire_at(week_end, "week")),
            ("month", f"{day:%Y-%m}", expire_at(month_end, "month")),
            ("all", "all", 0))


def _local_day(at: datetime, tz: ZoneInfo) -> date:
    """The calendar day ``at`` falls on in ``tz``."""
    return _aware(at).astimezone(tz).date()


def period_key_ids(at: datetime, tz: ZoneInfo = BANGKOK) -> dict[str, str]:
    """Map each period to the id of the local calendar period containing ``at``."""
    return {period: pid for period, pid, _ in _periods(_local_day(at, tz), tz)}


def _base(prefix: str, period: str, period_id: str) -> str:
    """The key stem shared by all boards of one period."""
    return f"{prefix}lb:all" if period == "all" else f"{prefix}lb:{period}:{period_id}"


def _scope(community_id: int | None) -> str:
    """Key suffix for the global board or one community's board."""
    return "g" if community_id is None else f"c:{int(community_id)}"


def board_key(prefix: str, period: str, community_id: int | None, now: datetime,
              tz: ZoneInfo = BANGKOK) -> str:
    """Key of the user board for ``period`` (as of ``now``) and scope."""
    _check_period(period)
    return f"{_base(prefix, period, period_key_ids(now, tz)[period])}:{_scope(community_id)}"


def encode_score(points: int, at: datetime) -> int:
    """Score for a user holding ``points`` since ``at``; see the module docstring for limits."""
    if not -MAX_POINTS <= points <= MAX_POINTS:
        raise ValueError(f"points must be within ±{MAX_POINTS}")
    since = math.floor(_aware(at).timestamp()) - EPOCH_2024
    return points * TIE_SPAN + (TIE_SPAN - 1 - min(max(since, 0), TIE_SPAN - 1))


def decode_points(score: float) -> int:
    """Points held in an encoded score."""
    return int(score) // TIE_SPAN


def _credit_keys(prefix: str, at: datetime, community_ids: Sequence[int], tz: ZoneInfo):
    """Yield (user board keys, community totals key, expire_at) per period for one credit."""
    for period, pid, expire_at in _periods(_local_day(at, tz), tz):
        base = _base(prefix, period, pid)
        users = [f"{base}:g"] + [f"{base}:c:{int(c)}" for c in community_ids]
        yield users, f"{base}:communities", expire_at


def _check_points(points: int) -> None:
    """A credit or a deduction, small enough to leave room for the tie-break bits."""
    if not isinstance(points, int) or not 0 < abs(points) <= MAX_POINTS:
        raise ValueError(f"points must be a non-zero integer within ±{MAX_POINTS}")


def record(r, prefix: str, user_id: int, points: int, at: datetime,
           community_ids: Sequence[int], tz: ZoneInfo = BANGKOK) -> None:
    """Credit (or, negative, deduct) points on every board the user is on, in one atomic
    script call."""
    _check_points(points)
    user_keys, user_expiries, comm_keys, comm_expiries = [], [], [], []
    for users, communities, expire_at in _credit_keys(prefix, at, community_ids, tz):
        user_keys += users
        user_expiries += [expire_at] * len(users)
        comm_keys.append(communities)
        comm_expiries.append(expire_at)
    args = [int(user_id), points, encode_score(0, at), len(user_keys), MAX_POINTS,
            len(community_ids), *(int(c) for c in community_ids), *user_expiries, *comm_expiries]
    r.register_script(_RECORD_LUA)(keys=user_keys + comm_keys, args=args)


def _shown(r, key: str, limit: int):
    """The best ``limit`` members with points above zero, with their scores."""
    return r.zrevrangebyscore(key, "+inf", TIE_SPAN, start=0, num=limit, withscores=True)


def _entries(rows) -> list[tuple[int, int, int]]:
    """Turn ZREVRANGE WITHSCORES rows into (rank, user_id, points)."""
    return [(i, int(m), decode_points(s)) for i, (m, s) in enumerate(rows, start=1)]


def _check_limit(limit: int) -> None:
    """ZREVRANGE 0 -1 would return the whole board, so a limit must be positive."""
    if limit < 1:
        raise ValueError("limit must be at least 1")


def top(r, prefix: str, period: str, community_id: int | None, now: datetime,
        tz: ZoneInfo = BANGKOK, limit: int = 10) -> list[tuple[int, int, int]]:
    """The best ``limit`` users as (rank, user_id, points)."""
    _check_limit(limit)
    key = board_key(prefix, period, community_id, now, tz)
    return _entries(_shown(r, key, limit))


def _me(rank, score) -> tuple[int | None, int]:
    """(1-based rank or None, points) from raw ZREVRANK and ZSCORE replies; a user at zero
    or below is not on the board (and everyone shown ranks above them)."""
    if rank is None or score is None or decode_points(score) <= 0:
        return None, 0
    return rank + 1, decode_points(score)


def rank_of(r, prefix: str, period: str, community_id: int | None, user_id: int,
            now: datetime, tz: ZoneInfo = BANGKOK) -> tuple[int | None, int]:
    """One user's (rank, points); (None, 0) when they have nothing above zero in the period."""
    key = board_key(prefix, period, community_id, now, tz)
    pipe = r.pipeline(transaction=False)
    pipe.zrevrank(key, int(user_id)).zscore(key, int(user_id))
    return _me(*pipe.execute())


def board(r, prefix: str, period: str, community_id: int | None, user_id: int,
          now: datetime, tz: ZoneInfo = BANGKOK, limit: int = 10
          ) -> tuple[list[tuple[int, int, int]], tuple[int | None, int]]:
    """Top ``limit`` entries and the caller's (rank, points) in one round-trip."""
    _check_limit(limit)
    key = board_key(prefix, period, community_id, now, tz)
    # MULTI so the caller's rank is read from the same snapshot as the entries
    pipe = r.pipeline(transaction=True)
    _shown(pipe, key, limit)
    pipe.zrevrank(key, int(user_id)).zscore(key, int(user_id))
    rows, rank, score = pipe.execute()
    return _entries(rows), _me(rank, score)


def community_totals(r, prefix: str, period: str, community_ids: Sequence[int],
                     now: datetime, tz: ZoneInfo = BANGKOK) -> dict[int, int]:
    """Points the members of each community show in the period (0 if none)."""
    _check_period(period)
    if not community_ids:
        return {}
    key = f"{_base(prefix, period, period_key_ids(now, tz)[period])}:communities"
    scores = r.zmscore(key, [int(c) for c in community_ids])
    return {int(c): int(s or 0) for c, s in zip(community_ids, scores)}


def _glob_escape(text: str) -> str:
    """Escape SCAN MATCH metacharacters so a prefix matches only itself."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _text(key) -> str:
    """SCAN yields bytes or str depending on decode_responses."""
    return key.decode() if isinstance(key, bytes) else key


def _replay(prefix: str, credits, now: datetime, tz: ZoneInfo):
    """Apply credits in memory as record() would; return ({key: {member: score}}, expiries)."""
    now_ts = _aware(now).timestamp()
    users: dict[str, dict[int, list[int]]] = {}  # key -> user -> [points, tie]
    expiry: dict[str, int] = {}
    totals_of: dict[str, tuple[str, int]] = {}  # community board -> (totals key, community)
    for user_id, points, at, community_ids in credits:
        _check_points(points)
        tie = encode_score(0, at)
        for user_keys, totals_key, expire_at in _credit_keys(prefix, at, community_ids, tz):
            # a live EXPIREAT in the past deletes the key, so such boards must not exist
            if expire_at and expire_at <= now_ts:
                continue
            for key in user_keys:
                held = users.setdefault(key, {}).setdefault(int(user_id), [0, tie])
                held[0] = max(min(held[0] + points, MAX_POINTS), -MAX_POINTS)
                held[1] = min(held[1], tie)
                expiry[key] = expire_at
            for key, c in zip(user_keys[1:], community_ids):
                totals_of[key] = (totals_key, int(c))
                expiry[totals_key] = expire_at
    scores = {k: {u: p * TIE_SPAN + t for u, (p, t) in m.items()} for k, m in users.items()}
    # A community's total: what its members show on its board, their points above zero (a
    # total of 0 has no member, as ZINCRBY's live total is removed at 0).
    totals: dict[str, dict[int, int]] = {}
    for key, (totals_key, community) in totals_of.items():
        shown = sum(p for p, _ in users[key].values() if p > 0)
        if shown:
            totals.setdefault(totals_key, {})[community] = shown
    expiry = {k: at for k, at in expiry.items() if k in scores or k in totals}
    return scores | totals, expiry


def rebuild(r, prefix: str, credits: Iterable[tuple[int, int, datetime, Sequence[int]]],
            now: datetime, tz: ZoneInfo = BANGKOK) -> int:
    """Rebuild every board from chronological credits and swap them in; return keys written.

    Replays exactly what ``record`` does, so scores (tie-break included) match a live board.
    Boards whose expiry has passed by ``now`` are skipped, as live ones would be gone.  Credits
    recorded live while this runs are lost unless they are in ``credits``.
    """
    built, expiry = _replay(prefix, credits, now, tz)
    tmp = f"{prefix}lbtmp:{secrets.token_hex(8)}:"  # outside "lb:*", so never seen as live

    def tmp_key(key: str) -> str:
        return tmp + key[len(prefix):]

    pipe = r.pipeline(transaction=False)
    for key, mapping in built.items():
        items = list(mapping.items())
        for i in range(0, len(items), BATCH):
            pipe.zadd(tmp_key(key), dict(items[i:i + BATCH]))
        pipe.expire(tmp_key(key), TMP_TTL_SECONDS)
        if len(pipe) >= 20:
            pipe.execute()
    pipe.execute()

    live = (_text(k) for k in r.scan_iter(match=_glob_escape(prefix) + "lb:*", count=1000))
    stale = [k for k in live if k not in built]
    # One MULTI: readers see either every old board or every new one, never a mix.
    swap = r.pipeline(transaction=True)
    for key in built:
        swap.rename(tmp_key(key), key)
        if expiry[key]:
            swap.expireat(key, expiry[key])
        else:
            swap.persist(key)
    if stale:
        swap.unlink(*stale)
    swap.execute()
    return len(built)
