"""Scans at chosen times, through the scan service itself: its on_credit and publish_credit.

``scan_at`` is what ``POST /scans`` runs, with the clock injected, so these tests exercise the
real hooks (streak, badges, impact in the transaction; the leaderboards after the commit).
"""
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from ecolife.actions.models import Action
from ecolife.codes.service import current_token
from ecolife.extensions import db
from ecolife.scans.service import record_scan

BKK = ZoneInfo("Asia/Bangkok")


def bkk(year, month, day, hour=12, minute=0):
    """A wall-clock time in Lamphun."""
    return datetime(year, month, day, hour, minute, tzinfo=BKK)


def this_monday(now=None):
    """00:00 Bangkok time of the current ISO week's Monday."""
    today = (now or datetime.now(BKK)).astimezone(BKK).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    return today - timedelta(days=today.weekday())


def unlimit_actions():
    """No cooldowns and no daily limits, so a test can scan as often as it needs."""
    db.session.execute(update(Action).values(cooldown_minutes=0, daily_limit=None))
    db.session.commit()


def scan_at(user, code, at):
    """Scan ``code`` as ``user`` at ``at``: the scan service's response body (a dict)."""
    return record_scan(user.id, {"token": current_token(code, at)}, now=at)


def scan_concurrently(app, jobs):
    """Run ``(user_id, code, at)`` scans in threads released together; returns the results.

    Keep ``jobs`` within the connection pool (15): a thread waiting for a connection is not
    racing anyone.
    """
    # Tokens and ids are read here: the threads must not touch this thread's session.
    jobs = [(user_id, current_token(code, at), at) for user_id, code, at in jobs]
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def run(i, user_id, token, at):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = record_scan(user_id, {"token": token}, now=at)
            except Exception as exc:  # reported by the caller's assert
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results
