"""Test fixtures: one app per session, on the embedded PostgreSQL + fakeredis by default.

With DATABASE_URL pointing at a PostgreSQL server and REDIS_URL at Redis, the same suite
runs there. Either way it creates a database of its own on the server, migrates it, and
drops it at the end; its Redis keys live under a prefix of their own and are deleted after
every test.
"""
import uuid
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskCliRunner, FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from config import TestConfig
from ecolife import create_app, embedded
from ecolife.extensions import db, limiter, redis_store
from ecolife.seed import ensure_defaults

RUN_ID = uuid.uuid4().hex[:10]
PGDATA = Path(__file__).resolve().parent.parent / "instance" / "pgdata"


def server_url():
    """A libpq URL of the server the suite runs on: DATABASE_URL's, else the embedded one
    (started, or reused if `make run` has it running)."""
    if TestConfig.SQLALCHEMY_DATABASE_URI:
        url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)
    return embedded.server_url(PGDATA)


def scratch_database(name):
    """Create the database ``name`` on the suite's server; returns its SQLAlchemy URL and a
    dropper."""
    import psycopg

    admin = server_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = make_url(admin).set(database=name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def app():
    url, drop = scratch_database(f"ecolife_test_{RUN_ID}")

    class SessionConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_KEY_PREFIX = f"ecolife-test:{RUN_ID}:"

    app = create_app(SessionConfig)
    app.test_client_class = RequestScopedClient
    app.test_cli_runner_class = CommandScopedCliRunner
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        _delete_redis_keys()
    drop()


class RequestScopedClient(FlaskClient):
    """Each request in an app context of its own, as in production: its session is removed
    when it ends, so what it did not commit is gone, and the test reads only what it did.

    Without this the request ran in the test's app context, on the test's session: a service
    that forgot to commit passed every test that read its work back.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()  # the test's own transaction ends first: its locks too
        with self.application.app_context():
            return super().open(*args, **kwargs)


class CommandScopedCliRunner(FlaskCliRunner):
    """Each command in an app context of its own, for the same reason: a command runs in a
    process of its own, and what it did not commit is gone when it ends."""

    def invoke(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        with self.app.app_context():
            return super().invoke(*args, **kwargs)


def _delete_redis_keys():
    client = redis_store.client
    keys = list(client.scan_iter(match=redis_store.prefix + "*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def _wipe_tables():
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts from the migrated schema with only the default data."""
    with app.app_context():
        yield
        db.session.rollback()
        _wipe_tables()
        ensure_defaults()
        _delete_redis_keys()
        limiter.reset()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()
