"""End-to-end latency of GET /api/v1/leaderboards on a board of 1M residents, in-process.

What leaderboard_read.py times is the Redis round trip alone; this times the whole request:
JWT check and user lookup, the Redis board (top 10 + the caller's rank), the one query for
the display names, serialisation.

Usage: python -m bench.leaderboard_api [--users 1000000] [--reads 1000]
           [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--redis-url URL]
Writes only to a database of its own (``ecolife_bench_lb_<hex>``, dropped at the end) and under
a random Redis prefix (UNLINKed at the end).
"""
import argparse
import os
import random
import secrets
import time
from datetime import datetime, timedelta

import psycopg
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from bench.leaderboard_read import load, percentile
from config import TestConfig
from ecolife import create_app
from ecolife.auth.tokens import issue_access_token
from ecolife.extensions import db, redis_store
from ecolife.leaderboards import boards
from ecolife.users.models import User

TOP = 10


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--pg", default=os.environ.get(
        "BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url",
                        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    name = f"ecolife_bench_lb_{secrets.token_hex(4)}"
    server = make_url(args.pg).set(drivername="postgresql")
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = server.set(database=name, drivername="postgresql+psycopg") \
            .render_as_string(hide_password=False)
        REDIS_URL = args.redis_url
        REDIS_KEY_PREFIX = f"bench:lbapi:{secrets.token_hex(6)}:"
        RATELIMIT_ENABLED = False

    app = create_app(BenchConfig)
    try:
        with app.app_context():
            upgrade()
            run(app, args)
    finally:
        with app.app_context():
            r = redis_store.client
            keys = list(r.scan_iter(match=redis_store.prefix + "*", count=1000))
            for i in range(0, len(keys), 500):
                r.unlink(*keys[i:i + 500])
            db.session.remove()
            db.engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(app, args):
    # The top ten and the caller are real accounts; the other residents live on the board only.
    users = [User(role="resident", email=f"r{i}@bench.example", password_hash="-",
                  display_name=f"ชาวบ้าน {i}") for i in range(TOP + 1)]
    db.session.add_all(users)
    db.session.commit()
    caller = users[-1]
    rng = random.Random(1)
    now = datetime.now(boards.BANGKOK)
    week_start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    key = boards.board_key(redis_store.prefix, "week", None, now)
    started = time.perf_counter()
    load(redis_store.client, key, args.users, week_start, rng)  # members 1..N, 1..5000 points
    redis_store.client.zadd(key, {u.id: boards.encode_score(10_000 + u.id, week_start)
                                  for u in users[:TOP]})
    redis_store.client.zadd(key, {caller.id: boards.encode_score(2500, week_start)})
    load_s = time.perf_counter() - started

    client = app.test_client()
    headers = {"Authorization": f"Bearer {issue_access_token(caller)[0]}"}
    timings = []
    for i in range(args.reads + 50):
        started = time.perf_counter()
        response = client.get("/api/v1/leaderboards?period=week&limit=10", headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        body = response.get_json()
        assert response.status_code == 200 and len(body["entries"]) == TOP, body
        assert body["entries"][0]["display_name"] and body["me"]["rank"] > TOP, body
        if i >= 50:  # warm-up: connection pool, caches
            timings.append(elapsed)
    timings.sort()
    print(f"users={args.users}")
    print(f"load_s={load_s:.2f}")
    print(f"reads={args.reads}")
    print(f"caller_rank={body['me']['rank']}")
    for label, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        print(f"api_read_{label}_ms={percentile(timings, q):.3f}")


if __name__ == "__main__":
    main()
