"""Migrations beyond "they run": offline SQL, and the phone rewrite of 0003."""
from pathlib import Path

import psycopg

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from ecolife.defaults import DEFAULT_ACTIONS, DEFAULT_BADGES
from ecolife.extensions import db
from tests.conftest import RUN_ID, scratch_database
from tests.factories import make_user
from tests.test_hardening_config import flask_cli

HEAD = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations")).get_current_head()

OFFLINE_NOTE = "0003: stored phones are NOT rewritten to E.164 by this script"


def set_phones(phones):
    for user, phone in phones.items():
        db.session.execute(sa.text("UPDATE users SET phone = :phone WHERE id = :id"),
                           {"phone": phone, "id": user.id})
    db.session.commit()


def phone_of(user):
    return db.session.scalar(sa.text("SELECT phone FROM users WHERE id = :id"), {"id": user.id})


# 0003 rewrites phones to E.164. Two stored forms of one number: which account keeps it must not
# depend on the order the database returns rows in, and the other must be reported.

@pytest.mark.parametrize("older_phone, newer_phone, keeper", [
    ("66812345678", "0812345678", "older"),  # both rewritten: the older account gets it
    ("0812345678", "+66812345678", "newer"),  # one already E.164: it stays where it is
])
def test_the_phone_rewrite_settles_duplicates_by_id_and_names_what_it_left(
    app, capsys, older_phone, newer_phone, keeper
):
    older, newer = make_user(email="older@example.org"), make_user(email="newer@example.org")
    invalid = make_user(email="invalid@example.org")
    downgrade(revision="0002")
    set_phones({older: older_phone, newer: newer_phone, invalid: "12"})
    capsys.readouterr()
    upgrade()
    # What the operator sees: env.py logs to stderr (and its logging setup drops caplog's handler).
    warnings = [line.split("] ", 1)[1] for line in capsys.readouterr().err.splitlines()
                if line.startswith("WARNI [alembic.runtime.migration]")]
    db.session.expire_all()
    kept, left = (older, newer) if keeper == "older" else (newer, older)
    assert phone_of(kept) == "+66812345678"
    assert phone_of(left) == (newer_phone if keeper == "older" else older_phone)
    assert phone_of(invalid) == "12"
    assert warnings == [f"user {left.id}: phone left as it was: user {kept.id} has its number",
                        f"user {invalid.id}: phone left as it was: not a valid number in TH"]


# `flask db upgrade --sql` writes the migrations as a script, for a DBA to run.

def test_offline_sql_is_written_without_a_database(tmp_path):
    result = flask_cli(tmp_path, "db", "upgrade", "--sql")  # at an address never reached
    assert result.returncode == 0, result.stderr[-2000:]
    assert "INSERT INTO actions" in result.stdout
    assert """'{"type": "scan_count", "threshold": 1}'""" in result.stdout
    assert f"-- {OFFLINE_NOTE}" in result.stdout and OFFLINE_NOTE in result.stderr


@pytest.fixture
def empty_database():
    url, drop = scratch_database(f"ecolife_offline_{RUN_ID}")
    yield url
    drop()


def test_offline_sql_builds_the_models_schema_and_its_note_rewrites_the_phones(
    tmp_path, empty_database
):
    script = flask_cli(tmp_path, "db", "upgrade", "--sql").stdout
    libpq = sa.engine.make_url(empty_database).set(drivername="postgresql")
    with psycopg.connect(libpq.render_as_string(hide_password=False)) as connection:
        connection.execute(script)  # no parameters: psycopg sends it as one simple query
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        assert connection.scalar(sa.text("SELECT count(*) FROM actions")) == len(DEFAULT_ACTIONS)
        criteria = connection.scalars(sa.text("SELECT criteria FROM badges ORDER BY id")).all()
        assert criteria == [badge[3] for badge in DEFAULT_BADGES]
        connection.execute(sa.text(
            "INSERT INTO users (phone, password_hash, display_name, role, balance,"
            " lifetime_points, streak_current, streak_best, created_at)"
            " VALUES ('0812345678', 'x', 'x', 'resident', 0, 0, 0, 0, '2026-01-01 00:00:00')"))
    # What the script's note says to run, online.
    note = script.split(f"-- {OFFLINE_NOTE}")[1].split("online: ")[1].split(";")[0]
    for command in note.split(" && "):
        assert command.startswith("flask db "), note
        result = flask_cli(tmp_path, *command.split()[1:], DATABASE_URL=empty_database)
        assert result.returncode == 0, result.stderr[-2000:]
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT phone FROM users")) == "+66812345678"
        assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == HEAD
    engine.dispose()
