"""Two operators changing one thing at once, on real PostgreSQL: each audit entry's "before"
is what its change replaced, and a change made once is logged once.

The first request is held inside its audit call (it has read the row, it has not committed)
and the second is sent then; the row lock makes it wait and read the first's result.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from ecolife.audit import service as audit_service
from ecolife.audit.models import AuditEntry
from ecolife.extensions import db
from ecolife.rewards import service as reward_service
from ecolife.shops import service as shop_service
from tests.conftest import backend
from tests.factories import auth, make_shop, make_user
from tests.rewards.helpers import make_reward

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(backend() != "postgresql", reason="races need a real PostgreSQL"),
]


def hold_the_first(monkeypatch, module, name, seconds=1.0):
    """The first call of ``module.name`` waits ``seconds`` before running; returns an event
    set once that call has begun (its request has read the row and holds what it holds)."""
    original, reached = getattr(module, name), threading.Event()

    def held(*args, **kwargs):
        if not reached.is_set():
            reached.set()
            time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return reached


def one_after_another(app, reached, first, second):
    """Run ``first(client)``, then ``second(client)`` once the first is held; both answers."""
    def run(call, wait):
        if wait:
            assert reached.wait(10), "the first request never reached its audit call"
        with app.app_context():
            try:
                return call(app.test_client())
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = [pool.submit(run, first, False), pool.submit(run, second, True)]
        return [answer.result() for answer in answers]


def entries():
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_a_shop_decision_logs_the_status_it_replaced(app, monkeypatch):
    first, second = make_user("operator"), make_user("operator")
    url = f"/api/v1/shops/{make_shop(status='pending').id}"
    reached = hold_the_first(monkeypatch, shop_service, "audit")
    assert one_after_another(
        app, reached,
        lambda c: c.post(url + "/approve", headers=auth(first)).status_code,
        lambda c: c.post(url + "/suspend", headers=auth(second)).status_code,
    ) == [200, 200]
    assert [(e.details["from"], e.details["to"]) for e in entries()] == [
        ("pending", "approved"), ("approved", "suspended")]


def test_a_rule_change_logs_the_value_it_replaced(app, monkeypatch):
    first, second = make_user("operator"), make_user("operator")
    reached = hold_the_first(monkeypatch, audit_service, "record")
    assert one_after_another(
        app, reached,
        lambda c: c.patch("/api/v1/actions/no_straw", json={"points": 7},
                          headers=auth(first)).status_code,
        lambda c: c.patch("/api/v1/actions/no_straw", json={"points": 9},
                          headers=auth(second)).status_code,
    ) == [200, 200]
    before = [e.details["before"]["points"] for e in entries()]
    after = [e.details["after"]["points"] for e in entries()]
    assert after == [7, 9] and before[1] == 7


def test_a_reward_archived_twice_at_once_is_logged_once(app, monkeypatch):
    first, second = make_user("operator"), make_user("operator")
    url = f"/api/v1/rewards/{make_reward().id}"
    reached = hold_the_first(monkeypatch, reward_service, "audit")
    assert one_after_another(
        app, reached,
        lambda c: c.delete(url, headers=auth(first)).status_code,
        lambda c: c.delete(url, headers=auth(second)).status_code,
    ) == [204, 204]
    assert [e.action for e in entries()] == ["reward.archive"]
