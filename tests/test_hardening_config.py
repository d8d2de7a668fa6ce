"""Startup refusals: unknown ECOLIFE_ENV, short SECRET_KEY, the demo seed in production."""
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from config import Config, ProductionConfig
from ecolife import _resolve_embedded_defaults, create_app
from ecolife.extensions import db
from ecolife.users.models import User

ROOT = Path(__file__).resolve().parent.parent
LONG_SECRET = "s" * 32


def production(**settings):
    """A production config class with every required setting, then ``settings``."""
    base = {"ECOLIFE_ENV": "production", "SECRET_KEY": LONG_SECRET,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db.invalid/ecolife",
            "REDIS_URL": "redis://redis.invalid:6379/0", "TRUSTED_PROXIES": 1}
    return type("Prod", (ProductionConfig,), {**base, **settings})


def resolve(config_class, tmp_path):
    """The config as create_app checks and completes it, on a bare app (no extensions)."""
    app = Flask("check", instance_path=str(tmp_path))
    app.config.from_object(config_class)
    _resolve_embedded_defaults(app)
    return app.config


def flask_cli(tmp_path, *args, **env):
    """``flask --app wsgi ARGS`` in a fresh process with ``env`` on top of a clean environment."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("ECOLIFE_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    base.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=base, capture_output=True, text=True, timeout=60)


# 1. The demo's accounts have a published password: never in production.

def test_seed_demo_refuses_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ECOLIFE_ENV", "production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "seed-demo refused" in result.output and "ecolife-demo" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_still_seeds_outside_production(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "operator: operator@ecolife.example / ecolife-demo" in result.output


def test_seed_demo_command_refuses_with_ecolife_env_production(tmp_path):
    """The reported reproduction, as an operator would type it."""
    result = flask_cli(tmp_path, "seed-demo", ECOLIFE_ENV="production",
                       SECRET_KEY="k" * 48, DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
                       REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "seed-demo refused: ECOLIFE_ENV is production" in result.stderr
    assert "ecolife-demo" not in result.stdout


# 2. JWT and QR keys derive from SECRET_KEY: a short one is brute-forced offline.

@pytest.mark.parametrize("secret", ["changeme", "x" * 31])
def test_production_refuses_a_short_secret_key(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be 32\\+ characters"):
        create_app(production(SECRET_KEY=secret))


def test_production_accepts_a_32_character_secret_key(tmp_path):
    assert resolve(production(SECRET_KEY=LONG_SECRET), tmp_path)["SECRET_KEY"] == LONG_SECRET


# 3. Only known environments: a typo must not silently mean development.

@pytest.mark.parametrize("env", ["prod", "Production", "production ", "staging", "", "testing"])
def test_unknown_ecolife_env_refuses_to_start(env):
    config = type("Typo", (Config,), {"ECOLIFE_ENV": env, "SECRET_KEY": None,
                                      "SQLALCHEMY_DATABASE_URI": None, "REDIS_URL": None})
    with pytest.raises(RuntimeError, match="ECOLIFE_ENV=.* is unknown"):
        create_app(config)


def test_unknown_ecolife_env_from_the_environment_refuses_to_start(tmp_path):
    result = flask_cli(tmp_path, "routes", ECOLIFE_ENV="prod", SECRET_KEY="k" * 48)
    assert result.returncode != 0
    assert "ECOLIFE_ENV='prod' is unknown: set it to development or production" in result.stderr


def test_known_environments_start(tmp_path):
    development = type("Dev", (Config,), {"ECOLIFE_ENV": "development", "SECRET_KEY": None,
                                          "SQLALCHEMY_DATABASE_URI": None, "REDIS_URL": None})
    assert resolve(development, tmp_path)["SECRET_KEY"]
    assert resolve(production(), tmp_path)["ECOLIFE_ENV"] == "production"


def test_the_test_suite_runs_as_testing(app):
    assert app.config["ECOLIFE_ENV"] == "testing" and app.config["TESTING"]


# 5. Without TRUSTED_PROXIES every client behind a proxy shares one allowance: say so.

@pytest.mark.parametrize("proxies, warnings", [(0, 1), (1, 0)])
def test_production_warns_once_when_no_proxy_is_trusted(
    tmp_path, caplog, proxies, warnings
):
    with caplog.at_level(logging.WARNING, logger="ecolife"):
        resolve(production(TRUSTED_PROXIES=proxies), tmp_path)
    shared = [r for r in caplog.records if "TRUSTED_PROXIES is 0" in r.getMessage()]
    assert len(shared) == warnings


@pytest.mark.parametrize("enabled, warnings", [(False, 1), (True, 0)])
def test_production_warns_when_rate_limits_are_off(tmp_path, caplog, enabled, warnings):
    with caplog.at_level(logging.WARNING, logger="ecolife"):
        resolve(production(RATELIMIT_ENABLED=enabled), tmp_path)
    off = [r for r in caplog.records if "RATELIMIT_ENABLED=0" in r.getMessage()]
    assert len(off) == warnings


# 6. API.md: Idempotency-Keys are kept at least 24 hours.

def test_idempotency_keys_cannot_be_kept_under_a_day(tmp_path):
    result = flask_cli(tmp_path, "routes", IDEMPOTENCY_KEEP_HOURS="5")
    assert result.returncode != 0
    assert "IDEMPOTENCY_KEEP_HOURS must be at least 24, not 5" in result.stderr
    assert flask_cli(tmp_path, "routes", IDEMPOTENCY_KEEP_HOURS="24").returncode == 0
