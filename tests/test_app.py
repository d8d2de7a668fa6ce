"""The app itself: migrations match the models, configuration is safe by default."""
from urllib.parse import quote

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flask import Flask

from config import Config, ProductionConfig
from ecolife import _resolve_embedded_defaults, create_app
from ecolife.extensions import db
from tests.factories import auth, make_user


def test_migrations_and_models_agree(app):
    """An autogenerate diff against the migrated database is empty."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_partial_indexes_are_partial_in_the_migrated_database_too(app):
    """compare_metadata ignores an index's WHERE: a migration building a full index where the
    model says partial (or the other way) would pass the test above."""
    from sqlalchemy import text

    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for index in table.indexes:
                where = index.dialect_options["postgresql"]["where"]
                found = connection.scalar(text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                    {"name": index.name})
                assert found is not None, index.name
                if where is None:
                    assert " WHERE " not in found.upper(), (index.name, found)
                else:
                    assert " WHERE " in found.upper(), (index.name, found)
                    assert str(where).replace(" ", "") in found.replace(" ", "").replace(
                        "(", "").replace(")", ""), (index.name, found)


def test_production_refuses_to_start_without_secrets():
    class Bare(ProductionConfig):
        ECOLIFE_ENV = "production"
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = None
        REDIS_URL = None

    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        create_app(Bare)


def test_embedded_default_keeps_its_secret_in_instance(tmp_path):
    class Embedded(Config):
        ECOLIFE_ENV = "development"
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = None
        REDIS_URL = None
        RATELIMIT_STORAGE_URI = None

    def resolved():
        app = Flask("embedded", instance_path=str(tmp_path))
        app.config.from_object(Embedded)
        _resolve_embedded_defaults(app)
        return app.config

    first, second = resolved(), resolved()
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 48
    # The embedded PostgreSQL, its data and its socket in instance/pgdata, reused the second time.
    assert first["SQLALCHEMY_DATABASE_URI"] == second["SQLALCHEMY_DATABASE_URI"]
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://postgres@/ecolife?")
    assert quote(str(tmp_path / "pgdata"), safe="") in first["SQLALCHEMY_DATABASE_URI"]
    assert first["RATELIMIT_STORAGE_URI"] == "memory://"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert not first["DEBUG"]


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/api/v1/readyz").get_json()
    assert ready["checks"] == {"database": "ok", "redis": "ok"}


def test_readiness_names_a_failed_redis(client, monkeypatch):
    import redis

    from ecolife.extensions import redis_store

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(redis_store, "client", dead)
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["error"] == "not_ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("error")


def test_docs_work_offline(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/docs/assets/swagger-ui-bundle.js" in page.data
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/auth/login" in spec["paths"]


def test_unexpected_errors_are_json_500_without_a_trace(client, monkeypatch):
    def boom(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("ecolife.users.service.describe", boom)
    response = client.get("/api/v1/me", headers=auth(make_user()))
    body = response.get_json()
    assert response.status_code == 500 and body["error"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_the_root_is_the_web_app_and_links_to_the_api_docs(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert 'href="/docs"' in response.get_data(as_text=True)
    docs = client.get("/docs")
    assert docs.status_code == 302 and docs.headers["Location"].endswith("/api/v1/docs")


def test_tokens_and_personal_answers_are_never_cached_and_nothing_is_sniffed(client):
    from ecolife.codes.service import current_token
    from tests.factories import PASSWORD, make_code, make_shop

    user = make_user(email="cache@example.org")
    login = client.post("/api/v1/auth/login",
                        json={"login": "cache@example.org", "password": PASSWORD})
    me = client.get("/api/v1/me", headers=auth(user))
    public = client.get("/api/v1/actions")
    for response in (login, me):
        assert response.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in public.headers
    assert all(r.headers["X-Content-Type-Options"] == "nosniff" for r in (login, me, public))
    # A view's own choice stands; pages are never framed and load nothing.
    assert "max-age" in client.get("/docs/assets/swagger-ui.css").headers["Cache-Control"]
    code = make_code(make_shop())
    landing = client.get("/s/" + current_token(code))
    assert "frame-ancestors 'none'" in landing.headers["Content-Security-Policy"]
