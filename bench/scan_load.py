"""Scan throughput and latency against gunicorn + PostgreSQL + Redis, beside a bare endpoint.

Usage: .venv/bin/python -m bench.scan_load [--clients 16] [--duration 20] [--users 20000]
                                          [--floor VARIANT]

Creates a scratch database beside --pg-url, migrates it, seeds residents, shops and codes,
starts its own gunicorn on a free port, then drives --clients keep-alive client threads for
--duration seconds at POST /api/v1/scans (every request a different (user, code) pair, so no
cooldown or daily limit is hit: every answer should be 201) and then at GET /healthz (plain
JSON, no database) on the same server. Prints ``key=value`` lines, checks the ledger, and drops
the database and its Redis keys at the end. Targets: ratio >= 0.25, scan p99 <= 50 ms.

On a shared machine the throughput figures move with whatever else runs, so each phase also
reports the CPU the server side (gunicorn processes and the database's backends) spent per
request, and ``cpu_ratio``: bare CPU / scan CPU, the ratio a CPU-bound server would reach.

``--floor VARIANT`` serves ``bench/floor_app.py`` instead: the same endpoint with the scan's own
work taken out, the most any scan built that way could reach here (``make bench-floor``).
"""
import argparse
import http.client
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("framework", "function", "function+publish", "session+publish")  # bench/floor_app.py
ACTIONS = ("no_plastic_bag", "no_straw", "own_cup", "no_foam", "refill")
VILLAGES = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_ms, q):
    """Nearest-rank percentile of an ascending list."""
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))] if sorted_ms else 0.0


def seed(users, shops):
    """Residents in villages, approved shops with one static code per action; returns
    ([access token per resident], [code URL])."""
    from sqlalchemy import insert, select

    from ecolife.actions.models import Action
    from ecolife.auth.passwords import hash_password
    from ecolife.auth.tokens import issue_access_token
    from ecolife.codes.keys import signing_kid
    from ecolife.codes.models import QrCode
    from ecolife.codes.service import code_url
    from ecolife.communities.models import Community
    from ecolife.extensions import db
    from ecolife.shops.models import Shop
    from ecolife.timeutil import utcnow
    from ecolife.users.models import User

    now, password = utcnow(), hash_password("bench-password-unused")
    parent = None
    for name, kind in (("Lamphun", "province"), ("Mueang", "district"), ("Umong", "tambon")):
        parent = Community(name=name, kind=kind, parent_id=parent.id if parent else None)
        db.session.add(parent)
        db.session.flush()
    villages = [Community(name=f"Village {n}", kind="village", parent_id=parent.id)
                for n in range(VILLAGES)]
    db.session.add_all(villages)
    owner = User(email="owner@bench.example", display_name="Owner", role="shop_owner",
                 password_hash=password)
    db.session.add(owner)
    db.session.flush()
    db.session.execute(insert(User), [
        {"email": f"r{n}@bench.example", "display_name": f"Resident {n}", "role": "resident",
         "password_hash": password, "community_id": villages[n % VILLAGES].id,
         "created_at": now}
        for n in range(users)
    ])
    db.session.execute(insert(Shop), [
        {"owner_id": owner.id, "name": f"ร้าน Shop {n}", "status": "approved",
         "latitude": 18.57, "longitude": 99.0, "geofence_m": 500, "created_at": now,
         "updated_at": now}
        for n in range(shops)
    ])
    action_ids = db.session.scalars(select(Action.id).where(Action.slug.in_(ACTIONS))).all()
    shop_ids = db.session.scalars(select(Shop.id)).all()
    db.session.execute(insert(QrCode), [
        {"shop_id": shop_id, "action_id": action_id, "mode": "static", "kid": signing_kid(),
         "created_by": owner.id, "created_at": now}
        for shop_id in shop_ids for action_id in action_ids
    ])
    db.session.commit()
    residents = db.session.scalars(select(User).where(User.role == "resident")
                                   .order_by(User.id)).all()
    tokens = [issue_access_token(user)[0] for user in residents]
    urls = [code_url(code) for code in db.session.scalars(select(QrCode).order_by(QrCode.id))]
    return tokens, urls


def drive(port, clients, duration, make_request, expected_status):
    """``clients`` keep-alive threads for ``duration`` s: (sorted latencies ms, errors, s)."""
    latencies, errors, lock = [], [0], threading.Lock()
    counter = itertools.count()
    stop_at = [0.0]
    ready = threading.Barrier(clients + 1)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, failed = [], 0
        ready.wait()
        while time.perf_counter() < stop_at[0]:
            method, path, body, headers = make_request(next(counter))
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expected_status
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
            failed += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    stop_at[0] = started + duration
    ready.wait()
    for thread in threads:
        thread.join()
    return sorted(latencies), errors[0], time.perf_counter() - started


def report(name, latencies, errors, seconds, server_cpu_s):
    rps = len(latencies) / seconds
    print(f"{name}_requests={len(latencies)}")
    print(f"{name}_rps={rps:.1f}")
    print(f"{name}_p50_ms={percentile(latencies, 0.50):.2f}")
    print(f"{name}_p99_ms={percentile(latencies, 0.99):.2f}")
    print(f"{name}_errors={errors}")
    cpu_ms = server_cpu_s * 1000 / max(1, len(latencies))
    print(f"{name}_server_cpu_ms_per_request={cpu_ms:.3f}")
    return rps, cpu_ms


def cpu_seconds(pid):
    """utime + stime of a process so far, from /proc (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(master_pid, admin_dsn, database):
    """The gunicorn master and workers, and the PostgreSQL backends of the bench database:
    the CPU the server side spends, whatever else runs on the machine."""
    import psycopg

    pids = [master_pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        pids += [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    return pids


def measured(port, clients, duration, make_request, expected, pids_now):
    """drive(), plus the server-side CPU seconds it cost."""
    before = {pid: cpu_seconds(pid) for pid in pids_now()}
    result = drive(port, clients, duration, make_request, expected)
    used = {pid: cpu_seconds(pid) - before.get(pid, 0.0) for pid in pids_now()}
    if os.environ.get("BENCH_DEBUG"):
        print("# cpu by pid", sorted(((round(v, 2), p) for p, v in used.items()), reverse=True))
    return (*result, sum(used.values()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not counted")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="an existing database; the scratch one is created beside it")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--floor", choices=FLOORS,
                        help="serve bench/floor_app.py: the scan's own work replaced by this")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    run = secrets.token_hex(4)
    admin = make_url(args.pg_url).set(drivername="postgresql")
    database = f"ecolife_bench_{run}"
    env = {
        **os.environ,
        "ECOLIFE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": admin.set(database=database).render_as_string(hide_password=False),
        "REDIS_URL": args.redis_url,
        "REDIS_KEY_PREFIX": f"bench:scan:{run}:",
        "ACCESS_TOKEN_MINUTES": "120",
        "PUBLIC_BASE_URL": "https://ecolife.bench.example",  # what the codes print
        **({"BENCH_FLOOR": args.floor} if args.floor else {}),
    }
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    server = None
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        os.environ.update(env)  # config.py reads the environment when first imported
        sys.path.insert(0, str(ROOT))
        from ecolife import create_app

        app = create_app()
        with app.app_context():
            tokens, urls = seed(args.users, args.shops)
        for key, value in (("users", len(tokens)), ("codes", len(urls)),
                           ("clients", args.clients), ("workers", args.workers),
                           ("threads", args.threads), ("duration_s", args.duration),
                           ("floor", args.floor or "none (the real scan)")):
            print(f"{key}={value}")

        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers),
             "-k", "gthread", "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "bench.floor_app:app" if args.floor else "wsgi:app"],
            cwd=ROOT, env=env,
        )
        wait_until_up(port)

        # Request i: user i mod U, and that user's (i div U)-th code, so pairs never repeat
        # and each user scans each action at most a few times (no cooldown, no daily limit).
        users, codes = len(tokens), len(urls)

        def scan_request(i):
            user, nth = i % users, i // users
            body = json.dumps({"url": urls[(user * 7919 + nth * len(ACTIONS) + nth) % codes],
                               "latitude": 18.5701, "longitude": 99.0002})
            return "POST", "/api/v1/scans", body, {
                "Authorization": f"Bearer {tokens[user]}", "Content-Type": "application/json"}

        def bare_request(i):
            return "GET", "/healthz", None, {}

        def scans_from(start):
            return lambda i: scan_request(start + i)

        def pids_now():
            return server_pids(server.pid, admin_dsn, database)

        print(f"loadavg_before={os.getloadavg()[0]:.2f}")
        warm = drive(port, args.clients, args.warmup, scans_from(0), 201)
        # Start past every pair the warm-up could have used.
        scan = measured(port, args.clients, args.duration, scans_from(users * 3), 201, pids_now)
        answered_201 = len(warm[0]) - warm[1] + len(scan[0]) - scan[1]
        drive(port, args.clients, args.warmup, bare_request, 200)
        bare = measured(port, args.clients, args.duration, bare_request, 200, pids_now)
        print(f"loadavg_after={os.getloadavg()[0]:.2f}")

        scan_rps, scan_cpu = report("scan", *scan)
        bare_rps, bare_cpu = report("bare", *bare)
        print(f"ratio={scan_rps / bare_rps:.3f}")
        # What the ratio would be if the server had the machine to itself (CPU-bound).
        print(f"cpu_ratio={bare_cpu / scan_cpu:.3f}")
        if args.floor:
            return  # nothing was credited
        with app.app_context():
            from sqlalchemy import func, select

            from ecolife.extensions import db
            from ecolife.points.models import LedgerEntry
            from ecolife.points.verification import verify

            problems = verify()
            credits = db.session.scalar(select(func.count()).select_from(LedgerEntry))
        # Every 201 is exactly one credit, and nothing else was credited.
        print(f"credits_match_201s={int(credits == answered_201)}")
        print(f"ledger_problems={len(problems)}")
        for problem in problems[:10]:
            print(f"# {problem}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        cleanup(admin_dsn, database, args.redis_url, env["REDIS_KEY_PREFIX"])


def wait_until_up(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def cleanup(admin_dsn, database, redis_url, prefix):
    import psycopg
    import redis

    try:
        from ecolife.extensions import db

        db.engine.dispose()
    except Exception:
        pass
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 500):
        client.unlink(*keys[start:start + 500])


if __name__ == "__main__":
    main()
