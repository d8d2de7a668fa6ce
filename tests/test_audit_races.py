"""Two operators changing one thing at once, on real PostgreSQL: each audit entry's "before"
is what its change replaced, and a change made once is logged once.

The first request is held inside its audit call (it has read the row, it has not committed)
and the second is sent then; the row lock makes it wait and read the first's result.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from ecolife.audit import service as audit_service
from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.rewards import service as reward_service
from ecolife.shops import service as shop_service
from tests.factories import auth, make_shop, make_user
from tests.rewards.helpers import make_reward


def two_operators(app, monkeypatch, held_at, *requests):
    """Two operators each send one of ``requests`` ((method, url, json body)); the first is
    held when it calls ``held_at`` ((module, name)), and the second is sent then. Returns
    the two statuses."""
    (module, name), reached = held_at, threading.Event()
    original = getattr(module, name)

    def held(*args, **kwargs):
        if not reached.is_set():
            reached.set()
            time.sleep(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    operators = [make_user("operator") for _ in requests]

    def send(nth):
        if nth:
            assert reached.wait(10), "the first request never reached its audit call"
        method, url, body = requests[nth]
        with app.app_context():
            try:
                return app.test_client().open(url, method=method, json=body,
                                              headers=auth(operators[nth])).status_code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, range(len(requests))))


def entries():
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_a_shop_decision_logs_the_status_it_replaced(app, monkeypatch):
    url = f"/api/v1/shops/{make_shop(status='pending').id}"
    assert two_operators(app, monkeypatch, (shop_service, "audit"),
                         ("POST", url + "/approve", None),
                         ("POST", url + "/suspend", None)) == [200, 200]
    assert [(e.details["from"], e.details["to"]) for e in entries()] == [
        ("pending", "approved"), ("approved", "suspended")]


def test_a_rule_change_logs_the_value_it_replaced(app, monkeypatch):
    url = "/api/v1/actions/no_straw"
    assert two_operators(app, monkeypatch, (audit_service, "record"),
                         ("PATCH", url, {"points": 7}),
                         ("PATCH", url, {"points": 9})) == [200, 200]
    before = [e.details["before"]["points"] for e in entries()]
    after = [e.details["after"]["points"] for e in entries()]
    assert after == [7, 9] and before[1] == 7


def test_a_reward_archived_twice_at_once_is_logged_once(app, monkeypatch):
    url = f"/api/v1/rewards/{make_reward().id}"
    assert two_operators(app, monkeypatch, (reward_service, "audit"),
                         ("DELETE", url, None), ("DELETE", url, None)) == [204, 204]
    assert [e.action for e in entries()] == ["reward.archive"]
