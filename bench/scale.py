"""Does EcoLife stay fast as the programme grows? The same requests on a small and a large database.

    .venv/bin/python -m bench.scale            (or: make bench-scale)

Two scratch databases, seeded by bench.seed_scale: a small one (1,000 residents, 10,000 ledger
entries) and a large one (1,000,000 residents, 10,000,000 ledger entries), each with 1,000 shops
and 5,000 codes, and a Redis weekly leaderboard holding every resident who earned this week
(everyone, by the seed's design). Both are served at once by gunicorn in production mode, and
each endpoint is driven by ``--clients`` keep-alive clients, alternating small and large in
``--rounds`` short rounds (so the machine's other load falls on both alike), ``--seconds`` in all
per endpoint and size:

  POST /scans  ·  GET /me/ledger?page_size=20  ·  GET /leaderboards?period=week

and it prints p50/p95/p99 and throughput at both sizes with the large / small ratios (the goal:
within 1.5x). Figures go to bench/out/scale.json (--publish: also docs/perf/).
"""
import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import psycopg

from bench import harness, load, seed_scale
from bench.harness import log

SIZES = {"small": 1_000, "large": 1_000_000}
ENDPOINTS = (("POST /scans", "scan"), ("GET /me/ledger", "ledger"), ("GET /leaderboards", "board"))
SAMPLE_USERS = 20_000


def load_week_board(s, database_url):
    """Redis: this week's board, global and per village, from the ledger (as a rebuild would)."""
    import redis

    from ecolife.leaderboards import boards

    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        week_start = conn.execute(
            "SELECT date_trunc('week', now() AT TIME ZONE 'Asia/Bangkok') AT TIME ZONE 'Asia/Bangkok'"
        ).fetchone()[0]
        rows = conn.execute(
            """SELECT e.user_id, u.community_id, sum(e.delta), max(e.created_at)
               FROM ledger_entries e JOIN users u ON u.id = e.user_id
               WHERE e.kind = 'earn' AND e.created_at >= %s GROUP BY e.user_id, u.community_id""",
            (week_start,))
        r = redis.Redis.from_url(s.redis_url)
        pipe = r.pipeline(transaction=False)
        global_key = boards.board_key(s.redis_prefix, "week", None, now)
        members = 0
        batch, by_village = {}, {}
        for user_id, village, points, at in rows:
            score = boards.encode_score(int(points), at)
            batch[user_id] = score
            by_village.setdefault(village, {})[user_id] = score
            members += 1
            if len(batch) >= 10_000:
                pipe.zadd(global_key, batch)
                pipe.execute()
                batch = {}
        if batch:
            pipe.zadd(global_key, batch)
        for village, mapping in by_village.items():
            items = list(mapping.items())
            for i in range(0, len(items), 10_000):
                pipe.zadd(boards.board_key(s.redis_prefix, "week", village, now), dict(items[i:i + 10_000]))
            pipe.execute()
        pipe.execute()
    return members


def sample_world(s, users, shops=1_000):
    """Tokens for a sample of residents and for every code, minted with the stack's keys."""
    import random

    from ecolife.auth.tokens import issue_access_token
    from ecolife.codes import tokens
    from ecolife.codes.keys import qr_keys

    rng = random.Random(7)
    ids = rng.sample(range(1, users + 1), min(users, SAMPLE_USERS))
    with s.app().app_context():
        user_tokens = {u: issue_access_token(SimpleNamespace(id=u, role="resident"))[0] for u in ids}
        key = qr_keys()["0"]
        code_tokens = [tokens.sign_static(c, key, "0") for c in range(1, shops * 5 + 1)]
    return harness.World(ids, user_tokens, code_tokens, [], "", 0)


@contextlib.contextmanager
def prepared(size, users, services, args):
    """A seeded, verified database of ``size`` served by gunicorn; yields (stack, world, facts)."""
    log(f"[{size}] seeding {users:,} residents x 10 ledger entries ...")
    with harness.stack(services, f"scale_{size}") as s:
        seeded = seed_scale.seed(s.database_url, users=users, entries=10)
        log(f"[{size}] {seeded['rows']} in {seeded['timings_s']['total']} s, {seeded['size']}")
        verify = None
        if users <= 100_000 or args.verify_large:
            t = time.monotonic()
            out = subprocess.run([str(harness.VENV_BIN / "flask"), "--app", "wsgi", "verify-ledger"],
                                 cwd=harness.ROOT, env=s.env(), capture_output=True, text=True)
            verify = {"ok": out.returncode == 0, "seconds": round(time.monotonic() - t, 1),
                      "output": out.stdout.strip().splitlines()[-1:]}
            log(f"[{size}] verify-ledger: {verify}")
        board_members = load_week_board(s, s.database_url)
        world = sample_world(s, users)
        s.start_gunicorn()
        yield s, world, {"users": users, "seed": seeded, "verify_ledger": verify,
                         "week_board_members": board_members}


def _median(values):
    values = sorted(v for v in values if v is not None)
    return round(values[len(values) // 2], 2) if values else None


def interleaved(stacks, args):
    """Each endpoint: small, large, small, large ... in short rounds, so the machine's other
    load falls on both sizes alike; per size, the median of the rounds' percentiles."""
    results = {size: {} for size in stacks}
    for name, _ in ENDPOINTS:
        mix = ((name, 1),)
        rounds = {size: [] for size in stacks}
        for size, (s, world) in stacks.items():
            load.drive(s.port, world, args.clients, args.warmup, mix, seed=11)
        for r in range(args.rounds):
            for size, (s, world) in stacks.items():
                rounds[size].append(load.drive(s.port, world, args.clients,
                                               args.seconds / args.rounds, mix, seed=12 + r)[name])
        for size, stats in rounds.items():
            statuses = {}
            for st in stats:
                for k, v in st["statuses"].items():
                    statuses[k] = statuses.get(k, 0) + v
            results[size][name] = {
                "rps": round(sum(st["count"] for st in stats) / args.seconds, 1),
                **{k: _median([st[k] for st in stats]) for k in ("p50_ms", "p95_ms", "p99_ms")},
                "statuses": statuses, "rounds": stats}
            log(f"[{size}] {name}: {results[size][name]['rps']} req/s, "
                f"p50 {results[size][name]['p50_ms']} ms, p99 {results[size][name]['p99_ms']} ms")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20, help="per endpoint and size")
    parser.add_argument("--rounds", type=int, default=4, help="alternations small/large")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--large-users", type=int, default=SIZES["large"])
    parser.add_argument("--small-users", type=int, default=SIZES["small"])
    parser.add_argument("--verify-large", action="store_true", help="also verify-ledger at 1M")
    parser.add_argument("--out", default=str(harness.OUT / "scale.json"))
    parser.add_argument("--publish", action="store_true")
    args = parser.parse_args(argv)
    harness.OUT.mkdir(parents=True, exist_ok=True)
    # Measured: 6.7 GB for 1,000,000 residents (10,000,000 ledger entries), and it scales with
    # the residents; twice that leaves room for WAL, indexes being built and the small copy.
    needed = 2 * 6.7 * (args.large_users + args.small_users) / 1_000_000
    free = shutil.disk_usage(harness.ROOT).free / 2**30
    if free < needed:
        raise SystemExit(f"only {free:.0f} GiB free; these sizes need about {needed:.0f} "
                         "(6.7 GB measured for 1,000,000 residents, twice that to be safe)")
    services = harness.ensure_system_services()
    with contextlib.ExitStack() as exits:
        facts, stacks = {}, {}
        for size, users in (("small", args.small_users), ("large", args.large_users)):
            s, world, facts[size] = exits.enter_context(prepared(size, users, services, args))
            stacks[size] = (s, world)
        measured = interleaved(stacks, args)
    runs = {size: {**facts[size], "endpoints": measured[size]} for size in facts}
    ratios = {}
    for name, _ in ENDPOINTS:
        small, large = runs["small"]["endpoints"][name], runs["large"]["endpoints"][name]
        ratios[name] = {k: round(large[k] / small[k], 2) if small[k] else None
                        for k in ("p50_ms", "p95_ms", "p99_ms")}
        ratios[name]["rps"] = round(small["rps"] / large["rps"], 2) if large["rps"] else None
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": load.machine(),
              "clients": args.clients, "seconds": args.seconds, "runs": runs,
              "ratios_large_over_small": ratios, "goal": 1.5,
              "pass": {n: all(v is not None and v <= 1.5 for k, v in r.items() if k in ("p50_ms", "p99_ms"))
                       for n, r in ratios.items()}}
    out = Path(args.out)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.publish:
        load.DOCS_PERF.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, load.DOCS_PERF / "scale.json")
    report(result)
    print(f"\nwrote {out}")
    return 0


def report(r):
    small, large = r["runs"]["small"], r["runs"]["large"]
    print(f"\nEcoLife at scale: {small['seed']['rows']['ledger_entries']:,} vs "
          f"{large['seed']['rows']['ledger_entries']:,} ledger entries "
          f"({small['users']:,} vs {large['users']:,} residents; {large['seed']['size']} on disk), "
          f"{r['clients']} clients, {r['seconds']:.0f} s per endpoint")
    print(f"seeding the large one took {large['seed']['timings_s']['total']} s")
    print(f"\n{'endpoint':<20}{'small p50/p99 ms':>20}{'large p50/p99 ms':>20}"
          f"{'p50 x':>8}{'p95 x':>8}{'p99 x':>8}{'rps small/large':>17}  goal ≤ 1.5")
    for name, ratio in r["ratios_large_over_small"].items():
        a, b = small["endpoints"][name], large["endpoints"][name]
        print(f"{name:<20}{a['p50_ms']:>10.1f}/{a['p99_ms']:<9.1f}{b['p50_ms']:>10.1f}/{b['p99_ms']:<9.1f}"
              f"{ratio['p50_ms']:>8}{ratio['p95_ms']:>8}{ratio['p99_ms']:>8}{ratio['rps']:>17}  "
              f"{'PASS' if r['pass'][name] else 'FAIL'}")


if __name__ == "__main__":
    sys.exit(main())
