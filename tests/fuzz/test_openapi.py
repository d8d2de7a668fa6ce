"""Schemathesis against the OpenAPI document the service serves (``make fuzz``; CI runs it).

Every operation in ``/api/v1/openapi.json`` is called in-process with generated valid and
invalid input, once per role, against a database holding a little of everything (an approved
shop with codes, a reward, a resident with points). Checks: no 500, every response matches
its documented status, content type and schema, and every error has the contract's shape
``{code, status, error, message}``, and a refusal (4xx) writes nothing. Bounded and deterministic: a fixed seed, a few dozen
examples per operation, so CI stays within minutes and a failure replays the same way.

Marked ``fuzz``: ``make test`` skips it, ``make fuzz`` runs only it.
"""
import os
from datetime import timedelta

import pytest
import schemathesis
from sqlalchemy import func, select

from config import TestConfig
from ecolife import create_app
from ecolife.auth.tokens import issue_access_token
from ecolife.extensions import db
from ecolife.points.service import credit, lock_user
from ecolife.rewards.models import Redemption, Reward
from ecolife.timeutil import utcnow
from ecolife.users.models import User
from tests import factories

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
ROLES = ("resident", "shop_owner", "operator")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # valid and invalid input
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",  # no .hypothesis/ directory, nothing replayed from earlier runs
            # The contract refuses unknown *body* fields (422); it says nothing of unknown
            # query parameters or headers, so the fuzzer does not invent them.
            "allow-extra-parameters": False,
        },
        # Stateful (link-following) runs are out of scope: one call at a time.
        "phases": {"stateful": {"enabled": False}},
        # The world fixture is set up once per operation on purpose: examples share it.
        "suppress-health-check": ["all"],
        "checks": {
            # The rate limiter answers 429 once the fuzzer has registered or logged in often
            # enough: that is the limiter working, documented as the default error response.
            "positive_data_acceptance": {"enabled": False},
            # Resources are created with random bodies; a later 404 is not a bug.
            "use_after_free": {"enabled": False},
            "ensure_resource_availability": {"enabled": False},
        },
    }
)


def _seed_world():
    """A small programme: every role, an approved shop with codes, a reward, some points."""
    village = factories.make_village()
    users = {
        "resident": factories.make_user("resident", community_id=village.id),
        "shop_owner": factories.make_user("shop_owner"),
        "operator": factories.make_user("operator"),
    }
    shop = factories.make_shop(owner=users["shop_owner"], community_id=village.id)
    factories.make_code(shop, "no_plastic_bag", "static")
    factories.make_code(shop, "own_cup", "rotating")
    db.session.add(Reward(name="ถุงผ้า Cloth bag", cost_points=10, stock=5, stock_left=5,
                          voucher_valid_days=30, starts_at=utcnow() - timedelta(days=1)))
    resident = lock_user(users["resident"].id)
    credit(resident, 500, "adjust", reason="fuzz seed")
    db.session.commit()
    return users


@pytest.fixture
def world(app):
    with app.app_context():
        return {role: issue_access_token(user)[0] for role, user in _seed_world().items()}


def _served_document():
    """The document exactly as the service serves it (built once, at collection)."""

    class SpecOnly(TestConfig):
        # Never connected: the document needs no data.
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://ecolife@127.0.0.1:1/ecolife"
        REDIS_URL = None

    return create_app(SpecOnly).test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_served_document(), config=CONFIG)


@schemathesis.check
def error_shape(ctx, response, case):
    """Every 4xx/5xx answers ``{code, status, error, message}`` with the right types."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    for field, kind in (("code", int), ("status", str), ("error", str), ("message", str)):
        assert isinstance(body.get(field), kind), f"{field!r} missing or not {kind.__name__}: {body!r}"
    assert body["code"] == response.status_code, f"code {body['code']} != {response.status_code}"
    error = body["error"]
    assert error and error.replace("_", "a").isalnum() and error.islower(), (
        f"error is not stable snake_case: {error!r}"
    )
    if "errors" in body:
        assert isinstance(body["errors"], dict), f"errors is not an object: {body!r}"
    return True


# API.md: an Idempotency-Key keeps the refusal it was first answered with, so a retry gets it
# back; that row is the one thing a refusal writes.
KEPT_ON_REFUSAL = {"idempotency_keys"}


def footprint():
    """What a refusal must leave as it was: every table's row count and the money totals."""
    counts = [select(func.count()).select_from(table).scalar_subquery().label(table.name)
              for table in db.metadata.sorted_tables if table.name not in KEPT_ON_REFUSAL]
    totals = [
        select(func.coalesce(func.sum(User.balance), 0)).scalar_subquery().label("balances"),
        select(func.coalesce(func.sum(User.lifetime_points), 0)).scalar_subquery()
        .label("lifetime_points"),
        select(func.coalesce(func.sum(Reward.stock_left), 0)).scalar_subquery()
        .label("stock_left"),
        select(func.count()).where(Redemption.status == "issued").scalar_subquery()
        .label("vouchers_issued"),
    ]
    found = dict(db.session.execute(select(*counts, *totals)).mappings().one())
    db.session.rollback()  # hold no snapshot or lock while the request runs
    return found


@pytest.fixture(params=ROLES)
def role(request):
    return request.param


@schema.parametrize()
def test_openapi(case, app, world, role):
    """Every operation, as every role: valid and invalid input, every check."""
    # In-process, also for the checks' own probes (ignored_auth sends one without a token).
    case.operation.app = case.operation.schema.app = app
    headers = {"Authorization": f"Bearer {world[role]}"}
    before = footprint()
    response = case.call(headers=headers)
    if 400 <= response.status_code < 500:
        after = footprint()
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"{response.status_code} {response.text[:200]} wrote {changed}"
    # As call_and_validate does: the checks know which headers were ours.
    case.validate_response(response, headers=headers, additional_checks=[error_shape],
                           transport_kwargs={"headers": headers})
