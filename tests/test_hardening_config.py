"""Startup refusals: unknown ECOLIFE_ENV, short SECRET_KEY, the demo seed in production, the
debugger in production, settings the app cannot use."""
import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.helpers import get_debug_flag
from sqlalchemy import func, select

from config import Config, ProductionConfig, flask_debug
from ecolife import _resolve_embedded_defaults, create_app
from ecolife.extensions import db
from ecolife.users.models import User

ROOT = Path(__file__).resolve().parent.parent
LONG_SECRET = "s" * 32


def production(**settings):
    """A production config class with every required setting, then ``settings``."""
    base = {"ECOLIFE_ENV": "production", "SECRET_KEY": LONG_SECRET,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db.invalid/ecolife",
            "REDIS_URL": "redis://redis.invalid:6379/0", "TRUSTED_PROXIES": 1,
            "PUBLIC_BASE_URL": "https://ecolife.example"}
    return type("Prod", (ProductionConfig,), {**base, **settings})


def resolve(config_class, tmp_path):
    """The config as create_app checks and completes it, on a bare app (no extensions)."""
    app = Flask("check", instance_path=str(tmp_path))
    app.config.from_object(config_class)
    _resolve_embedded_defaults(app)
    return app.config


# A database a command that must not connect is pointed at: it would fail if it tried.
UNREACHABLE_DB = "postgresql://ecolife@127.0.0.1:1/ecolife"


def flask_cli(tmp_path, *args, **env):
    """``flask --app wsgi ARGS`` in a fresh process with ``env`` on top of a clean environment
    (``DATABASE_URL``: one that is never reached, unless ``env`` names one)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("ECOLIFE_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL",
                         "PUBLIC_BASE_URL")}
    base.update({"DATABASE_URL": UNREACHABLE_DB, **env}, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=base, capture_output=True, text=True, timeout=60)


def load_config(monkeypatch, **env):
    """config.py run afresh, as a module of its own, with ``env`` set: settings are read at
    import. The ``config`` module the app uses is left alone."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("config_under_test", ROOT / "config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_debug_flag(monkeypatch):
    """Production starts here whatever the shell's FLASK_DEBUG says."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)


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
                       SECRET_KEY="k" * 48, DATABASE_URL=UNREACHABLE_DB,
                       REDIS_URL="redis://127.0.0.1:1/0", PUBLIC_BASE_URL="https://eco.example")
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


# 7. Flask's CLI turns the debugger on from FLASK_DEBUG after create_app: in production its
#    console would run any Python a visitor types.

@pytest.mark.parametrize("value", ["1", "true", "Yes", "on", "2"])
def test_production_refuses_to_start_with_flask_debug(tmp_path, monkeypatch, value):
    monkeypatch.setenv("FLASK_DEBUG", value)
    with pytest.raises(RuntimeError, match="FLASK_DEBUG .* production never runs it"):
        resolve(production(), tmp_path)


@pytest.mark.parametrize("value", ["0", "false", "NO", ""])
def test_production_starts_with_flask_debug_off(tmp_path, monkeypatch, value):
    monkeypatch.setenv("FLASK_DEBUG", value)
    assert resolve(production(), tmp_path)["DEBUG"] is False


@pytest.mark.parametrize("value", [None, "", "0", "false", "False", "no", "NO", "1", "true",
                                   "yes", "on", "off", "debug"])
def test_flask_debug_reads_the_variable_as_flasks_cli_does(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
    else:
        monkeypatch.setenv("FLASK_DEBUG", value)
    assert flask_debug() is get_debug_flag()


@pytest.mark.parametrize("args, env", [(["routes"], {"FLASK_DEBUG": "1"}),
                                       (["--debug", "routes"], {})])
def test_flask_cli_with_the_debugger_refuses_in_production(tmp_path, args, env):
    """The reported reproduction: FLASK_DEBUG=1 (or --debug) under ECOLIFE_ENV=production."""
    result = flask_cli(tmp_path, *args, ECOLIFE_ENV="production", SECRET_KEY="k" * 48,
                       DATABASE_URL=UNREACHABLE_DB,
                       REDIS_URL="redis://127.0.0.1:1/0", PUBLIC_BASE_URL="https://eco.example",
                       **env)
    assert result.returncode != 0, result.stdout
    assert "production never runs it" in result.stderr


# 8. A rate limit Flask-Limiter cannot parse is logged and skipped at every request: no limit.

LIMITS = ("LOGIN_LIMIT_PER_IP", "LOGIN_LIMIT_PER_ACCOUNT", "REGISTER_LIMIT_PER_IP",
          "REFRESH_LIMIT_PER_IP", "FULFIL_LIMIT_PER_USER")


@pytest.mark.parametrize("name", LIMITS)
@pytest.mark.parametrize("value", ["lots", "", "5 per minute; often"])
def test_a_rate_limit_that_does_not_parse_refuses_to_start(monkeypatch, name, value):
    with pytest.raises(ValueError, match=f"^{name}: "):
        load_config(monkeypatch, **{name: value})


def test_rate_limits_that_parse_are_kept_as_written(monkeypatch):
    config = load_config(monkeypatch, LOGIN_LIMIT_PER_IP="10/minute; 100 per hour")
    assert config.Config.LOGIN_LIMIT_PER_IP == "10/minute; 100 per hour"


@pytest.mark.parametrize("value, enabled", [("1", True), ("true", True), ("YES", True),
                                            ("0", False), ("False", False), ("no", False)])
def test_ratelimit_enabled_words(monkeypatch, value, enabled):
    assert load_config(monkeypatch, RATELIMIT_ENABLED=value).Config.RATELIMIT_ENABLED is enabled


@pytest.mark.parametrize("value", ["on", "off", "", "2", "enabled"])
def test_ratelimit_enabled_refuses_other_words(monkeypatch, value):
    # Each of these used to mean off, "true" and "yes" included.
    with pytest.raises(ValueError, match="^RATELIMIT_ENABLED must be 1, 0, true, false, yes"):
        load_config(monkeypatch, RATELIMIT_ENABLED=value)


# 9. A setting the app cannot use refuses to start, naming its variable, instead of failing
#    inside requests.

@pytest.mark.parametrize("name, value", [
    ("ECOLIFE_TIMEZONE", "Mars/Olympus"),
    ("ECOLIFE_TIMEZONE", "Asia"),
    ("ECOLIFE_TIMEZONE", "../etc/passwd"),
    ("ARGON2_MEMORY_KIB", "7"),
    ("ARGON2_MEMORY_KIB", "0"),
    ("ARGON2_MEMORY_KIB", "19 MiB"),
    ("ARGON2_TIME_COST", "0"),
    ("ARGON2_TIME_COST", "-2"),
    ("TRUSTED_PROXIES", "-1"),
    ("TRUSTED_PROXIES", "one"),
    ("ACCESS_TOKEN_MINUTES", "0"),
    ("REFRESH_TOKEN_DAYS", "0"),
    ("POINTS_EXPIRE_DAYS", "0"),
    ("POINTS_EXPIRE_DAYS", "1.5"),
    ("MAX_CONTENT_LENGTH", "1023"),
    ("MAX_CONTENT_LENGTH", "64K"),
    ("IDEMPOTENCY_KEEP_HOURS", "two days"),
    ("PHONE_REGION", "XX"),
    ("PHONE_REGION", "Thailand"),
    ("CLEAN_COMMUNITY_THRESHOLD", "1.5"),
    ("CLEAN_COMMUNITY_THRESHOLD", "-0.1"),
    ("CLEAN_COMMUNITY_THRESHOLD", "nan"),
    ("CLEAN_COMMUNITY_THRESHOLD", "high"),
    # A scheme-less address printed "ecolife.example/s/..." on every sticker, which no
    # phone opens, and every scan of such a URL answered 500.
    ("PUBLIC_BASE_URL", "ecolife.example"),
    ("PUBLIC_BASE_URL", "ftp://ecolife.example"),
    ("PUBLIC_BASE_URL", "https://"),
    ("PUBLIC_BASE_URL", "https://ecolife.example/?campaign=1"),
    ("PUBLIC_BASE_URL", "https://ecolife.example/#top"),
    ("PUBLIC_BASE_URL", "https://admin@ecolife.example"),
    ("PUBLIC_BASE_URL", "https://ecolife.example:port"),
    ("PUBLIC_BASE_URL", "https://ecolife.example?"),  # urlsplit calls an empty query none
    ("PUBLIC_BASE_URL", "https://ecolife.example#"),
    ("PUBLIC_BASE_URL", "https://:@ecolife.example"),
    ("PUBLIC_BASE_URL", "https://eco\nlife.example"),  # urlsplit drops the newline
])
def test_a_setting_the_app_cannot_use_refuses_to_start(monkeypatch, name, value):
    with pytest.raises(ValueError, match=f"^{name} must "):
        load_config(monkeypatch, **{name: value})


@pytest.mark.parametrize("name, value, kept", [
    ("ECOLIFE_TIMEZONE", "UTC", "UTC"),
    ("ARGON2_MEMORY_KIB", "8", 8),
    ("ARGON2_TIME_COST", "1", 1),
    ("TRUSTED_PROXIES", "0", 0),
    ("MAX_CONTENT_LENGTH", "1024", 1024),
    ("PHONE_REGION", "th", "TH"),  # phonenumbers knows only "TH"
    ("CLEAN_COMMUNITY_THRESHOLD", "0", 0.0),
    ("CLEAN_COMMUNITY_THRESHOLD", "1", 1.0),
    ("PUBLIC_BASE_URL", " https://eco.lamphun.go.th/ ", "https://eco.lamphun.go.th"),
    ("PUBLIC_BASE_URL", "http://10.0.0.5:8000/ecolife", "http://10.0.0.5:8000/ecolife"),
])
def test_the_edges_of_what_a_setting_accepts(monkeypatch, name, value, kept):
    assert getattr(load_config(monkeypatch, **{name: value}).Config, name) == kept


def test_the_argon2_floor_is_argon2s_own():
    """8 KiB and 1 iteration hash at the app's parallelism; 7 KiB does not."""
    from argon2.exceptions import HashingError

    from ecolife.auth.passwords import _hasher_for

    assert _hasher_for(1, 8)[0].verify(_hasher_for(1, 8)[0].hash("password"), "password")
    with pytest.raises(HashingError):
        _hasher_for(1, 7)


def test_production_needs_the_address_its_stickers_print(tmp_path):
    # Unset, production printed http://localhost:5000/s/... on stickers meant to last.
    with pytest.raises(RuntimeError, match="production needs PUBLIC_BASE_URL"):
        resolve(production(PUBLIC_BASE_URL=None), tmp_path)


def test_development_serves_codes_from_localhost_without_settings(tmp_path):
    development = type("Dev", (Config,), {"ECOLIFE_ENV": "development",
                                          "PUBLIC_BASE_URL": None})
    assert resolve(development, tmp_path)["PUBLIC_BASE_URL"] == "http://localhost:5000"
