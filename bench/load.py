"""The load benchmark: gunicorn + PostgreSQL + Redis as in production, a realistic mix, and baselines.

    .venv/bin/python -m bench.load            (or: make bench-load)

One run, on one machine, in this order:
  1. mixed load: 16 clients, mostly scans, some redemptions, balance / ledger / leaderboard reads,
     over 20,000 residents, 200 shops, 1,000 QR codes and 20 rewards;
  2. scans only, 16 clients (the scan's own throughput and latency);
  3. the bare JSON endpoint (GET /healthz: routing, JSON, no database), 16 clients;
  4. pgbench running the SQL of one scan transaction (bench/scan.sql, 16 clients);
and prints throughput, p50/p95/p99 and errors per endpoint plus the ratios the targets name.
Figures go to bench/out/load.json and bench/out/load.png; --publish also copies them to
docs/perf/ (the copy the README shows).
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench import harness
from bench.harness import Client, log, run_threads, summarize

SCAN_SQL = Path(__file__).with_name("scan.sql")
DOCS_PERF = harness.ROOT / "docs" / "perf"
# The mix: (name, weight). Scans dominate, as they do in the programme.
MIX = (("POST /scans", 70), ("POST /redemptions", 5), ("GET /me", 10), ("GET /me/ledger", 8),
       ("GET /leaderboards", 7))
TARGETS = {"scan_vs_bare": 0.25, "scan_vs_pgbench": 0.35, "scan_p99_ms": 50.0}


def make_request(name, rng, world):
    """(method, path, body, headers) for one request of kind ``name`` by a random resident."""
    uid = world.user_ids[rng.randrange(len(world.user_ids))]
    auth = {"Authorization": "Bearer " + world.user_tokens[uid]}
    if name == "POST /scans":
        token = world.code_tokens[rng.randrange(len(world.code_tokens))]
        return "POST", "/api/v1/scans", {"token": token}, {**auth, "Idempotency-Key": uuid.uuid4().hex}
    if name == "POST /redemptions":
        reward = world.reward_ids[rng.randrange(len(world.reward_ids))]
        return ("POST", "/api/v1/redemptions", {"reward_id": reward},
                {**auth, "Idempotency-Key": uuid.uuid4().hex})
    if name == "GET /me":
        return "GET", "/api/v1/me", None, auth
    if name == "GET /me/ledger":
        return "GET", "/api/v1/me/ledger?page_size=20", None, auth
    if name == "GET /leaderboards":
        return "GET", "/api/v1/leaderboards?period=week&limit=10", None, auth
    if name == "GET /healthz":
        return "GET", "/healthz", None, {}
    raise ValueError(name)


def drive(port, world, clients, seconds, mix, seed=1, keepalive=True):
    """``clients`` threads, each a keep-alive connection, for ``seconds``; returns stats by name."""
    names = [n for n, _ in mix]
    weights = [w for _, w in mix]
    deadline = time.monotonic() + seconds

    def worker(i):
        rng = harness.rng_for(i, seed)
        client = Client(port, keepalive=keepalive)
        samples = []
        while time.monotonic() < deadline:
            name = rng.choices(names, weights)[0]
            method, path, body, headers = make_request(name, rng, world)
            status, _, ms, _ = client.request(method, path, body, headers)
            samples.append((name, status, ms))
        client.close()
        return samples

    started = time.monotonic()
    per_thread = run_threads(clients, worker)
    elapsed = time.monotonic() - started
    by_name = {}
    for samples in per_thread:
        for name, status, ms in samples:
            by_name.setdefault(name, []).append((status, ms))
    stats = {name: summarize(by_name.get(name, []), elapsed) for name in names}
    everything = [s for samples in by_name.values() for s in samples]
    stats["all"] = summarize(everything, elapsed)
    return stats


def pgbench(database_url, world, clients, seconds):
    """TPS of bench/scan.sql (one scan's statements, as the app sends them) at ``clients``."""
    if not shutil.which("pgbench"):
        log("pgbench not found (apt-get install postgresql-client): skipped")
        return None
    ncodes = len(world.code_tokens)
    args = ["pgbench", "-n", "-M", "prepared", "-f", str(SCAN_SQL), "-c", str(clients),
            "-j", "2", "-T", str(seconds), "-D", f"nusers={len(world.user_ids)}",
            "-D", f"ncodes={ncodes}", "-D", "nvillages=20", "-r", database_url]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        log(out.stdout, out.stderr)
        raise RuntimeError("pgbench failed")
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return {"tps": round(tps, 1), "latency_avg_ms": float(latency.group(1)) if latency else None,
            "failed": int(failed.group(1)) if failed else 0, "clients": clients,
            "seconds": seconds, "statements_per_txn": _statement_count()}


def _statement_count():
    text = SCAN_SQL.read_text()
    return sum(1 for line in text.splitlines()
               if line.strip() and not line.lstrip().startswith(("--", "\\")))


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "postgres_client": pg, "kernel": platform.release(),
            # other work on the machine skews every figure: say how busy it was
            "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30, help="per phase")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--out", default=str(harness.OUT / "load.json"))
    parser.add_argument("--publish", action="store_true",
                        help="also copy the JSON and PNG to docs/perf/ (the README's chart)")
    args = parser.parse_args(argv)

    services = harness.ensure_system_services()
    log(f"seeding {args.users} residents, {args.shops} shops ...")
    with harness.stack(services, "load") as s:
        world = harness.seed_world(s, users=args.users, shops=args.shops, codes_per_shop=5,
                                   rewards=20, balance=1_000, reward_stock=None)
        s.start_gunicorn()
        conf = {k: os.environ.get("BENCH_" + k.upper()) for k in ("workers", "threads", "worker_class")}
        log(f"gunicorn up on :{s.port} (workers={len(s.worker_pids())})")
        drive(s.port, world, args.clients, args.warmup, MIX, seed=99)  # warm caches and pools

        log(f"mixed load: {args.clients} clients, {args.seconds:.0f}s ...")
        mixed = drive(s.port, world, args.clients, args.seconds, MIX, seed=1)
        log("scans only ...")
        scans = drive(s.port, world, args.clients, args.seconds, (("POST /scans", 1),), seed=2)
        log("bare JSON endpoint ...")
        bare = drive(s.port, world, args.clients, args.seconds, (("GET /healthz", 1),), seed=3)
        workers = len(s.worker_pids())
        s.stop_gunicorn()
        log("pgbench with the scan's SQL ...")
        pgb = pgbench(s.database_url, world, args.clients, int(args.seconds))

    scan = scans["POST /scans"]
    scan_rps = scan["rps"]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "setup": {"clients": args.clients, "seconds_per_phase": args.seconds,
                  "users": args.users, "shops": args.shops, "codes": args.shops * 5, "rewards": 20,
                  "gunicorn": {"workers": workers, "worker_class": conf["worker_class"] or "gthread",
                               "threads": int(conf["threads"] or 8)},
                  "mix": dict(MIX)},
        "mixed": mixed,
        "scans_only": scan,
        "bare": bare["GET /healthz"],
        "pgbench": pgb,
        "ratios": {
            "scan_vs_bare": round(scan_rps / bare["GET /healthz"]["rps"], 3),
            "scan_vs_pgbench": round(scan_rps / pgb["tps"], 3) if pgb else None,
        },
        "targets": TARGETS,
    }
    result["pass"] = {
        "scan_vs_bare": result["ratios"]["scan_vs_bare"] >= TARGETS["scan_vs_bare"],
        "scan_vs_pgbench": bool(pgb) and result["ratios"]["scan_vs_pgbench"] >= TARGETS["scan_vs_pgbench"],
        "scan_p99_ms": scan["p99_ms"] <= TARGETS["scan_p99_ms"],
        "no_errors": all(v["errors"] == 0 for v in (*mixed.values(), scan, bare["GET /healthz"])),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    from bench import chart

    png = chart.draw_load(result, out.with_suffix(".png"))
    if args.publish:
        DOCS_PERF.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, DOCS_PERF / "load.json")
        shutil.copy(png, DOCS_PERF / "load.png")
    print_report(result, out, png)
    return 0


def print_report(r, out, png):
    print(f"\nEcoLife load benchmark, {r['when']}, {r['machine']['cores']} cores, "
          f"{r['setup']['clients']} clients, {r['setup']['seconds_per_phase']:.0f} s per phase")
    print(f"gunicorn {r['setup']['gunicorn']}")
    header = f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}  statuses"
    print("\nmixed load\n" + header)
    for name, st in r["mixed"].items():
        print(_row(name, st))
    print("\nalone\n" + header)
    print(_row("POST /scans (only)", r["scans_only"]))
    print(_row("GET /healthz (bare)", r["bare"]))
    if r["pgbench"]:
        p = r["pgbench"]
        print(f"{'pgbench scan.sql':<22}{p['tps']:>9.1f}{'':>9}{'':>9}{'':>9}{p['failed']:>8}  "
              f"avg {p['latency_avg_ms']} ms, {p['statements_per_txn']} statements/txn")
    print("\nratios (target)")
    for key, target in (("scan_vs_bare", "≥ 0.25"), ("scan_vs_pgbench", "≥ 0.35")):
        print(f"  {key:<18}{r['ratios'][key]!s:>8}  ({target})  {'PASS' if r['pass'][key] else 'FAIL'}")
    print(f"  {'scan p99 ms':<18}{r['scans_only']['p99_ms']:>8}  (≤ 50)    "
          f"{'PASS' if r['pass']['scan_p99_ms'] else 'FAIL'}")
    print(f"  {'no 5xx / lost':<18}{'':>8}            {'PASS' if r['pass']['no_errors'] else 'FAIL'}")
    print(f"\nwrote {out} and {png}")


def _row(name, st):
    statuses = " ".join(f"{k}:{v}" for k, v in sorted(st["statuses"].items()))
    return (f"{name:<22}{st['rps']:>9.1f}{st['p50_ms'] or 0:>9.1f}{st['p95_ms'] or 0:>9.1f}"
            f"{st['p99_ms'] or 0:>9.1f}{st['errors']:>8}  {statuses}")


if __name__ == "__main__":
    sys.exit(main())
