"""The floor under POST /scans: the application with the scan's own work taken out.

Served by ``bench/scan_load.py --floor VARIANT`` (``make bench-floor`` runs every variant), never
by anything else. Everything in front of the scan stays as the real endpoint has it: gunicorn,
Flask, the bearer token, the rate limits, the Idempotency-Key wrapper, the validation of the
body and the schema of the answer. Only ``scans.service.record_scan`` is replaced, by the least
a scan could do, chosen by ``BENCH_FLOOR``:

- ``framework``: nothing; the answer is made up, no database, no Redis.
- ``function``: check the code's signature and run one ``SELECT 1`` on a connection of the
  worker's own, in autocommit: the round trip a scan written as one PostgreSQL function would
  still make, before the function does any work.
- ``function+publish``: that, and the leaderboard publish a real scan makes after its commit.
- ``session+publish``: the ``SELECT 1`` in a transaction of the SQLAlchemy session (pool
  checkout with its pre-ping, BEGIN, COMMIT) as the real scan runs its statements, and the
  publish.

The ratio a variant reaches against the bare endpoint bounds what any scan built that way can
reach on this stack and this machine: a real scan does all of it and its own work on top.
"""
import os
import threading

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ecolife.codes.service import parse_token
from ecolife.extensions import db, execute_core
from ecolife.leaderboards import service as leaderboards
from ecolife.scans import service as scans
from ecolife.scans import views
from bench.scan_load import FLOORS
from ecolife.timeutil import utcnow
from wsgi import app

VARIANT = os.environ["BENCH_FLOOR"]
if VARIANT not in FLOORS:
    raise SystemExit(f"BENCH_FLOOR must be one of {', '.join(FLOORS)}")

_SELECT_1 = text("SELECT 1")
_own = threading.local()


def _own_connection():
    """One autocommit connection per worker thread, kept for the worker's life."""
    conn = getattr(_own, "conn", None)
    if conn is None:
        url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
        conn = _own.conn = psycopg.connect(url.render_as_string(hide_password=False),
                                           autocommit=True)
    return conn


class FloorService:
    """Stands in for ``ecolife.scans.service`` in the scan view."""

    @staticmethod
    def record_scan(user_id, data, idem=None):
        now = utcnow()
        if VARIANT != "framework":
            parse_token(scans._token_of(data))  # the HMAC check every scan starts with
        if VARIANT.startswith("function"):
            _own_connection().execute("SELECT 1").fetchone()
        elif VARIANT.startswith("session"):
            execute_core(_SELECT_1).scalar_one()
            db.session.commit()
        if VARIANT.endswith("+publish"):
            leaderboards.publish_credit(user_id, 5, now, [4, 3, 2, 1])
        return {
            "id": 1, "points": 5, "shop": {"id": 1, "name": "Floor"}, "action": "no_plastic_bag",
            "impact": {"unit": "plastic_bag", "amount": 1}, "created_at": now, "balance": 5,
            "new_badges": [], "level": {"number": 1, "name": "Seed", "points_to_next": 45},
        }


views.service = FloorService
