"""Statements, time and a cProfile of POST /scans in-process (Flask test client, no gunicorn).

Usage: .venv/bin/python bench/scan_profile.py [--scans 2000] [--profile out.prof] [--show-sql]
                                              [--idempotency]

Same seed and request pattern as scan_load.py, against a scratch PostgreSQL database beside
--pg-url and Redis keys under a prefix of their own (both removed at the end). Prints the
SQL statements per scan (counted at before_cursor_execute; BEGIN, COMMIT and the pool's
pre-ping are round trips on top), the wall time and the CPU of one scan with one client (this
process, and the PostgreSQL backend serving it), and the CPU of the bare endpoints.
"""
import argparse
import cProfile
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--profile", help="write a cProfile of the measured scans here")
    parser.add_argument("--show-sql", action="store_true", help="print one scan's statements")
    parser.add_argument("--idempotency", action="store_true",
                        help="send an Idempotency-Key with every scan, as bench/load.py does")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    from scan_load import cleanup, cpu_seconds, seed

    run = secrets.token_hex(4)
    admin = make_url(args.pg_url).set(drivername="postgresql")
    database = f"ecolife_prof_{run}"
    env = {"ECOLIFE_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "DATABASE_URL": admin.set(database=database).render_as_string(hide_password=False),
           "REDIS_URL": args.redis_url, "REDIS_KEY_PREFIX": f"bench:prof:{run}:",
           "ACCESS_TOKEN_MINUTES": "120", "PUBLIC_BASE_URL": "https://ecolife.bench.example"}
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
        os.environ.update(env)
        from sqlalchemy import event, text

        from ecolife import create_app
        from ecolife.extensions import db

        app = create_app()
        with app.app_context():
            tokens, urls = seed(args.users, 50)
            engine = db.engine
        statements = []

        @event.listens_for(engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        client = app.test_client()

        def scan(i):
            user, nth = i % len(tokens), i // len(tokens)
            body = json.dumps({"url": urls[(user * 7919 + nth * 6) % len(urls)],
                               "latitude": 18.5701, "longitude": 99.0002})
            headers = {"Authorization": f"Bearer {tokens[user]}",
                       "Content-Type": "application/json"}
            if args.idempotency:
                headers["Idempotency-Key"] = f"profile-{run}-{i}"
            response = client.post("/api/v1/scans", data=body, headers=headers)
            assert response.status_code == 201, response.get_data(as_text=True)

        for i in range(200):  # warm-up: caches, prepared statements, pool
            scan(i)
        statements.clear()
        scan(200)
        print(f"statements_per_scan={len(statements)}")
        if args.show_sql:
            for statement in statements:
                print("  " + " ".join(statement.split()))
        with app.app_context():  # the test client's one connection: its backend's CPU
            backend = db.session.scalar(text("SELECT pg_backend_pid()"))
            db.session.commit()
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        pg_before, cpu_before = cpu_seconds(backend), time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(201, 201 + args.scans):
            scan(i)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        print(f"scan_ms={(time.perf_counter() - started) * 1000 / args.scans:.3f}")
        print(f"scan_python_cpu_ms={(time.process_time() - cpu_before) * 1000 / args.scans:.3f}")
        print(f"scan_pg_cpu_ms={(cpu_seconds(backend) - pg_before) * 1000 / args.scans:.3f}")
        started = time.process_time()
        for _ in range(args.scans):
            client.get("/healthz")
        print(f"bare_python_cpu_ms={(time.process_time() - started) * 1000 / args.scans:.3f}")
        started = time.process_time()
        for _ in range(args.scans):
            client.get("/api/v1/healthz")
        print(f"api_bare_python_cpu_ms={(time.process_time() - started) * 1000 / args.scans:.3f}")
    finally:
        cleanup(admin_dsn, database, args.redis_url, env["REDIS_KEY_PREFIX"])


if __name__ == "__main__":
    main()
