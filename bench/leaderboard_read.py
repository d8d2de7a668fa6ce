"""Read latency of one leaderboard request (top 10 + the caller's rank) on a board of 1M users.

Usage: python bench/leaderboard_read.py [--users 1000000] [--reads 2000] [--redis-url URL]
Writes only under a random `bench:lb:<hex>:` prefix and UNLINKs it at the end.
"""
import argparse
import os
import random
import secrets
import time
from datetime import datetime, timedelta

import redis

from ecolife.leaderboards import boards

BATCH = 10_000


def load(r, key, users, week_start, rng):
    """ZADD every user with a module-encoded score, 10k members per command."""
    pipe = r.pipeline(transaction=False)
    for first in range(1, users + 1, BATCH):
        pipe.zadd(key, {
            user: boards.encode_score(rng.randint(1, 5000),
                                      week_start + timedelta(seconds=rng.randrange(7 * 86400)))
            for user in range(first, min(first + BATCH, users + 1))
        })
        # a few batches per round-trip: fewer waits without one huge request buffer
        if len(pipe) >= 10:
            pipe.execute()
    pipe.execute()


def percentile(sorted_ms, q):
    """Nearest-rank percentile of an ascending list."""
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--redis-url",
                        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    r = redis.Redis.from_url(args.redis_url)
    prefix = f"bench:lb:{secrets.token_hex(6)}:"
    rng = random.Random(1)
    now = datetime.now(boards.BANGKOK)
    week_start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    try:
        started = time.perf_counter()
        load(r, boards.board_key(prefix, "week", None, now), args.users, week_start, rng)
        load_s = time.perf_counter() - started

        timings = []
        for _ in range(args.reads):
            caller = rng.randint(1, args.users)
            started = time.perf_counter()
            entries, (rank, _) = boards.board(r, prefix, "week", None, caller, now, limit=10)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(entries) == min(10, args.users) and rank is not None
        timings.sort()
        print(f"users={args.users}")
        print(f"load_s={load_s:.2f}")
        print(f"reads={args.reads}")
        for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            print(f"board_read_{name}_ms={percentile(timings, q):.3f}")
    finally:
        keys = list(r.scan_iter(match=prefix + "*"))
        if keys:
            r.unlink(*keys)


if __name__ == "__main__":
    main()
