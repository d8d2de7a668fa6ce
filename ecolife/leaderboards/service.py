"""Leaderboards: publish credits to Redis after commit; read and rebuild the boards.

Boards count points *earned* per week, month and all time, in ``ECOLIFE_TIMEZONE``: the
ledger's ``earn`` entries and an operator's corrections of residents' points (``adjust``, either
sign: a duplicate or fraudulent credit taken back leaves the boards too), each in the period it
was made. See ``boards.py`` for the keys, the scores and the tie-break. Redis holds only what the
ledger can rebuild (``flask --app wsgi rebuild-leaderboards``).
"""
import logging
import threading
from collections import Counter
from fractions import Fraction

import redis
from flask import current_app
from sqlalchemy import case, func, select

from ecolife.communities.service import get_community
from ecolife.errors import DomainError
from ecolife.extensions import db, redis_store
from ecolife.gamification.tree import load_tree
from ecolife.leaderboards import boards
from ecolife.points.models import LedgerEntry
from ecolife.scans.models import Scan
from ecolife.timeutil import local_tz, utcnow
from ecolife.users.models import User

log = logging.getLogger(__name__)
REBUILD_BATCH = 10_000
_filling = threading.Lock()


class LeaderboardUnavailable(DomainError):
    status, error = 503, "leaderboard_unavailable"
    message = "Leaderboards are unavailable right now; try again shortly."


def publish_credit(user_id, points, at, community_ids):
    """Add an earn credit or a (signed) correction to every board, after the DB commit;
    failures are logged, not raised.

    ``at`` must be the ledger entry's ``created_at``: a rebuild replays that time, so the
    tie-break of a rebuilt board equals the live one. ``community_ids``: village first.
    """
    try:
        boards.record(redis_store.client, redis_store.prefix, int(user_id), int(points), at,
                      [int(c) for c in community_ids], local_tz())
    except redis.RedisError:
        # The scan is committed and the ledger is the truth: a rebuild repairs the boards.
        log.warning("leaderboards: credit of user %s not published", user_id, exc_info=True)
    except Exception:
        # Same reasoning for a bug: failing a committed scan would only make a client retry.
        log.exception("leaderboards: credit of user %s not published", user_id)


def publish_correction(resident, delta, at):
    """An operator's adjustment of a resident's points (``resident``: id, role, community_id,
    as committed: the village its entry keeps) to the boards; after the DB commit, failures
    logged, not raised, like ``publish_credit``."""
    user_id, role, community_id = resident
    if role != "resident":
        return  # boards rank residents; only scans put anyone on them
    try:
        chain = load_tree().chain(community_id) if community_id is not None else []
    except Exception:
        log.exception("leaderboards: correction of user %s not published", user_id)
        return
    publish_credit(user_id, delta, at, chain)


def _fill_embedded_boards():
    """Fill an embedded Redis's boards from the ledger, once per process, before a read.

    Without REDIS_URL the boards live in this process's memory and die with it; without this
    a restart of ``make run`` showed empty leaderboards until a full rebuild, which the
    ``rebuild-leaderboards`` command, a process of its own, cannot do for the server.
    """
    state = current_app.extensions["ecolife_redis"]
    if state["boards_unfilled"]:
        with _filling:
            if state["boards_unfilled"]:
                rebuild_boards()
                state["boards_unfilled"] = False


def read_board(viewer, period="week", community_id=None, limit=10, now=None):
    """Top ``limit`` of a board and the viewer's own rank, even from outside the top."""
    if community_id is not None:
        get_community(community_id)
    now, tz = now or utcnow(), local_tz()
    try:
        _fill_embedded_boards()
        entries, (rank, points) = boards.board(
            redis_store.client, redis_store.prefix, period, community_id, viewer.id, now, tz, limit
        )
    except redis.RedisError as exc:
        raise LeaderboardUnavailable() from exc
    user_ids = [user_id for _, user_id, _ in entries]
    names = dict(db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(user_ids))
    ).all()) if user_ids else {}
    return {
        "period": period,
        "period_id": boards.period_key_ids(now, tz)[period],
        "community_id": community_id,
        "entries": [
            {"rank": r, "user_id": u, "display_name": names.get(u), "points": p}
            for r, u, p in entries
        ],
        "me": {"rank": rank, "points": points},
    }


def rank_communities(period, kind, pagination_parameters, now=None):
    """Communities of ``kind`` ranked by points earned in the period per member.

    Members: residents whose village lies under the community (one grouped query over users,
    rolled up in memory). Equal rates rank by points, then by id.
    """
    tree = load_tree()
    ids = tree.of_kind(kind)
    members = Counter()
    for community_id, count in db.session.execute(
        select(User.community_id, func.count())
        .where(User.role == "resident", User.community_id.is_not(None))
        .group_by(User.community_id)
    ):
        top = tree.ancestor_of_kind(community_id, kind)
        if top is not None:
            members[top] += count
    try:
        _fill_embedded_boards()
        points = boards.community_totals(redis_store.client, redis_store.prefix, period, ids,
                                         now or utcnow(), local_tz())
    except redis.RedisError as exc:
        raise LeaderboardUnavailable() from exc

    def rate(cid):
        return Fraction(points[cid], members[cid]) if members[cid] else Fraction(0)

    ordered = sorted(ids, key=lambda cid: (-rate(cid), -points[cid], cid))
    pagination_parameters.item_count = len(ordered)
    first = (pagination_parameters.page - 1) * pagination_parameters.page_size
    return [
        {
            "rank": first + i + 1,
            "community_id": cid,
            "name": tree.nodes[cid].name,
            "kind": kind,
            "points": points[cid],
            "members": members[cid],
            "points_per_member": round(float(rate(cid)), 2),
        }
        for i, cid in enumerate(ordered[first:first + pagination_parameters.page_size])
    ]


def _credits():
    """Every earn entry and every adjustment of a resident, oldest first, with the community
    chain it credited (streamed).

    The village is the one the resident belonged to when credited (kept on the scan, or on
    the adjustment's entry), so a rebuild gives the boards the live credits gave, even after
    residents move. The chain above it is today's tree: after an operator moves a village, a
    rebuild is how its past points reach the new tambon's boards (PATCH /communities says so).
    """
    tree = load_tree()
    village = case((LedgerEntry.kind == "earn", Scan.community_id),
                   else_=LedgerEntry.community_id)
    rows = db.session.execute(
        select(LedgerEntry.user_id, LedgerEntry.delta, LedgerEntry.created_at, village)
        .join(User, User.id == LedgerEntry.user_id)
        .outerjoin(Scan, Scan.id == LedgerEntry.scan_id)
        .where((LedgerEntry.kind == "earn")
               | ((LedgerEntry.kind == "adjust") & (User.role == "resident")))
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
        .execution_options(yield_per=REBUILD_BATCH)
    )
    chains = {}
    for user_id, points, at, community_id in rows:
        if community_id not in chains:
            chains[community_id] = tree.chain(community_id) if community_id is not None else []
        yield user_id, points, at, chains[community_id]


def rebuild_boards(now=None):
    """Rebuild every board from the ledger and swap them in at once; returns keys written.

    Credits published while it runs may be overwritten by the swap: run it when scans are
    quiet, or run it again (it converges on the ledger).
    """
    return boards.rebuild(redis_store.client, redis_store.prefix, _credits(),
                          now or utcnow(), local_tz())
