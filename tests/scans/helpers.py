"""Request helpers shared by the scan tests."""
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import func, select, text

from ecolife.codes.service import code_url
from ecolife.extensions import db
from ecolife.points.models import LedgerEntry, PointLot
from ecolife.scans.models import Scan
from tests.factories import auth


def scan(client, user, code=None, now=None, *, headers=None, **body):
    """POST /scans as ``user`` with ``code``'s current URL (or the body given)."""
    if code is not None:
        body.setdefault("url", code_url(code, now))
    return client.post("/api/v1/scans", json=body, headers=auth(user, **(headers or {})))


def written(user_id=None):
    """(scans, ledger entries, lots) rows, of one user or of everyone."""
    counts = []
    for model in (Scan, LedgerEntry, PointLot):
        query = select(func.count()).select_from(model)
        if user_id is not None:
            query = query.where(model.user_id == user_id)
        counts.append(db.session.scalar(query))
    return tuple(counts)


def dead_redis():
    """A client of a Redis that is down (nothing listens on port 1), configured like the app's."""
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.25, socket_timeout=0.25,
                       retry=Retry(NoBackoff(), 0))


def run_concurrently(app, count, request):
    """Call ``request(client, i)`` from ``count`` threads released at once; returns responses.

    Each thread has its own app context (so its own database session and connection).
    """
    import threading

    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(i):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            try:
                response = request(client, i)
                results[i] = (response.status_code, response.get_json(), dict(response.headers))
            except Exception as exc:  # reported, not swallowed: the test asserts on it
                results[i] = (None, repr(exc), {})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def waiting_for_a_lock():
    """How many sessions of this PostgreSQL database wait for a lock now."""
    with db.engine.connect() as conn:
        return conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"))
