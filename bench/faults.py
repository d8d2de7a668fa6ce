"""The fault run: 32 clients scan, redeem and cancel while Redis, PostgreSQL and gunicorn workers die.

    .venv/bin/python -m bench.faults            (or: make bench-faults)

It runs a PostgreSQL cluster and a Redis of its own (bench.harness.private_services), so the
kills touch nobody else's tests, with gunicorn in production mode in front of them. During the
load it SIGKILLs Redis and starts it again, restarts PostgreSQL with ``-m immediate`` (no
checkpoint: crash recovery), and SIGKILLs gunicorn workers while they serve requests.

Every request carries an Idempotency-Key and is recorded as ``ok`` (2xx), ``fail`` (4xx/5xx)
or ``unknown`` (timed out, connection lost). Like a real app, a client retries an unknown or
5xx answer, or a 409 ``idempotency_conflict``, with the same key. Afterwards, straight from the
database, it checks and prints:

  verify-ledger clean · no negative balance · stock never below zero and vouchers issued = stock
  consumed · one ledger entry per Idempotency-Key · every acknowledged credit present (lost = 0) ·
  duplicates = 0 · how many unknown requests turned out committed

and exits 1 if any invariant fails. Figures go to bench/out/faults.json.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from bench import harness
from bench.harness import Client, log

RETRYABLE_CONFLICT = "idempotency_conflict"


class Recorder:
    """Every attempt of every logical request, thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # one dict per logical request (one Idempotency-Key)
        self.in_flight = 0

    def add(self, req):
        with self.lock:
            self.requests.append(req)


def outcome(status):
    if status is None:
        return "unknown"
    return "ok" if 200 <= status < 300 else "fail"


def retryable(status, body):
    if status is None or status >= 500:
        return True
    return status == 409 and isinstance(body, dict) and body.get("error") == RETRYABLE_CONFLICT


def client_loop(i, port, world, deadline, rec, stop_retrying_at, max_attempts=8):
    """One resident-app-like client: scan mostly, redeem sometimes, cancel its own vouchers."""
    rng = harness.rng_for(i, 4242)
    client = Client(port, timeout=5.0)
    mine = [world.user_ids[j] for j in range(i, len(world.user_ids), 32)]  # users of this client
    vouchers = {}  # user -> [redemption ids issued to them]
    while time.monotonic() < deadline:
        uid = mine[rng.randrange(len(mine))]
        auth = {"Authorization": "Bearer " + world.user_tokens[uid]}
        roll = rng.random()
        if roll < 0.30 and vouchers.get(uid):
            rid = vouchers[uid].pop(rng.randrange(len(vouchers[uid])))
            op, method, path, body = "cancel", "POST", f"/api/v1/redemptions/{rid}/cancel", None
        elif roll < 0.50:
            reward = world.reward_ids[rng.randrange(len(world.reward_ids))]
            op, method, path, body = "redeem", "POST", "/api/v1/redemptions", {"reward_id": reward}
        else:
            token = world.code_tokens[rng.randrange(len(world.code_tokens))]
            op, method, path, body = "scan", "POST", "/api/v1/scans", {"token": token}
        key = uuid.uuid4().hex
        req = {"op": op, "user": uid, "key": key, "path": path, "attempts": []}
        for attempt in range(max_attempts):
            with rec.lock:
                rec.in_flight += 1
            started = time.time()
            status, data, ms, err = client.request(method, path, body, {**auth, "Idempotency-Key": key})
            with rec.lock:
                rec.in_flight -= 1
            req["attempts"].append({"t": started, "end": time.time(), "status": status, "ms": round(ms, 1), "error": err,
                                    "body": data if status is not None else None})
            if not retryable(status, data) or time.monotonic() > stop_retrying_at:
                break
            time.sleep(min(2.0, 0.2 * 2 ** attempt) * (0.5 + rng.random()))
        last = req["attempts"][-1]
        req["outcome"] = outcome(last["status"])
        req["first_outcome"] = outcome(req["attempts"][0]["status"])
        if op == "redeem" and req["outcome"] == "ok":
            vouchers.setdefault(uid, []).append(last["body"]["id"])
        rec.add(req)
    client.close()


def fault_schedule(services, s, rec, start, events, plan):
    """Run the faults at their offsets (seconds from ``start``); ALWAYS brings services back."""
    for at, what in plan:
        time.sleep(max(0.0, start + at - time.monotonic()))
        t = time.time()
        try:
            if what == "kill_redis":
                services.redis.kill()
                events.append({"t": t, "fault": "Redis SIGKILL", "in_flight": rec.in_flight})
            elif what == "start_redis":
                services.redis.start()
                events.append({"t": t, "fault": "Redis started again", "in_flight": rec.in_flight})
            elif what == "restart_pg":
                in_flight = rec.in_flight
                began = time.monotonic()
                services.pg.restart_immediate()
                events.append({"t": t, "fault": "PostgreSQL restart -m immediate",
                               "in_flight": in_flight,
                               "outage_s": round(time.monotonic() - began, 2)})
            elif what == "kill_worker":
                # The worker holding the most clients' connections: with 32 clients sending
                # back to back, it is serving several requests at this instant.
                pids = s.worker_pids()
                victim, connections = s.busiest_worker()
                in_flight = rec.in_flight
                os.kill(victim, signal.SIGKILL)
                events.append({"t": t, "fault": f"gunicorn worker {victim} SIGKILL",
                               "in_flight": in_flight, "workers_before": len(pids),
                               "its_connections": connections})
        except Exception as exc:  # record, and carry on: the finally below restores services
            events.append({"t": t, "fault": what, "error": repr(exc)})
    # Whatever happened above, leave Redis and PostgreSQL running.
    try:
        harness.redis_ready(services.redis.url)
    except Exception:
        services.redis.start()
    try:
        harness.pg_ready(services.pg.server)
    except Exception:
        services.pg.start()


def check(s, world, rec, stock):
    """The invariants, from the database; returns (figures, failures)."""
    import psycopg

    figures, failures = {}, []
    verify = subprocess.run([str(harness.VENV_BIN / "flask"), "--app", "wsgi", "verify-ledger"],
                            cwd=harness.ROOT, env=s.env(), capture_output=True, text=True)
    problems = [line for line in verify.stdout.splitlines() if line and line != "ledger ok"]
    figures["verify_ledger"] = "clean" if verify.returncode == 0 else f"{len(problems)} problems"
    if verify.returncode != 0:
        failures.append(f"verify-ledger: {problems[:5]} {verify.stderr[-500:]}")

    with psycopg.connect(s.database_url) as conn:
        q = lambda sql, *a: conn.execute(sql, a).fetchall()  # noqa: E731
        negative = q("SELECT count(*) FROM users WHERE balance < 0")[0][0]
        figures["negative_balances"] = negative
        if negative:
            failures.append(f"{negative} negative balances")

        rows = q("""SELECT r.id, r.stock, r.stock_left,
                           count(d.id) FILTER (WHERE d.status <> 'cancelled'),
                           count(d.id) FILTER (WHERE d.status = 'cancelled')
                    FROM rewards r LEFT JOIN redemptions d ON d.reward_id = r.id
                    GROUP BY r.id ORDER BY r.id""")
        stock_rows = []
        for rid, total, left, held, cancelled in rows:
            stock_rows.append({"reward": rid, "stock": total, "stock_left": left,
                               "vouchers_held": held, "cancelled": cancelled})
            if left is not None and left < 0:
                failures.append(f"reward {rid}: stock_left {left} < 0")
            if total is not None and total - left != held:
                failures.append(f"reward {rid}: stock consumed {total - left} != vouchers held {held}")
        figures["stock"] = stock_rows
        figures["stock_sold_out"] = sum(1 for r in stock_rows if r["stock_left"] == 0)

        # Only a 2xx answer stored under a key means the request took effect: refusals are
        # stored too (a retry gets the same refusal), with nothing else written.
        keys = {(u, k): (st, body) for u, k, st, body in
                q("SELECT user_id, key, response_status, response_body FROM idempotency_keys "
                  "WHERE response_status BETWEEN 200 AND 299")}
        entries_by_scan = Counter(dict(q("SELECT scan_id, count(*) FROM ledger_entries "
                                         "WHERE scan_id IS NOT NULL GROUP BY scan_id")))
        entries_by_red = {(rid, kind): n for rid, kind, n in
                          q("SELECT redemption_id, kind, count(*) FROM ledger_entries "
                            "WHERE redemption_id IS NOT NULL GROUP BY redemption_id, kind")}
        scans_total = q("SELECT count(*) FROM scans")[0][0]
        redemptions_total = q("SELECT count(*) FROM redemptions")[0][0]
        cancelled_total = q("SELECT count(*) FROM redemptions WHERE status = 'cancelled'")[0][0]
        scan_ids = {r[0]: r[1] for r in q("SELECT id, points FROM scans")}
        red_ids = {r[0] for r in q("SELECT id FROM redemptions")}
        earn_sum = dict(q("SELECT scan_id, sum(delta) FROM ledger_entries WHERE kind = 'earn' "
                          "GROUP BY scan_id"))

    # Map each logical request to what it committed (via the stored idempotent response).
    committed = {"scan": 0, "redeem": 0, "cancel": 0}
    wrong_entries, lost, acknowledged = [], [], Counter()
    unknown_first = unknown_committed = unknown_final = unknown_final_committed = 0
    fail_but_committed = []
    for req in rec.requests:
        stored = keys.get((req["user"], req["key"]))
        if stored is not None:
            committed[req["op"]] += 1
            body = json.loads(stored[1])
            if req["op"] == "scan":
                n = entries_by_scan.get(body["id"], 0)
                if n != 1:
                    wrong_entries.append((req["key"], "scan", body["id"], n))
            elif req["op"] == "redeem":
                n = entries_by_red.get((body["id"], "redeem"), 0)
                if n != 1:
                    wrong_entries.append((req["key"], "redeem", body["id"], n))
            else:
                n = entries_by_red.get((body["id"], "refund"), 0)
                if n != 1:
                    wrong_entries.append((req["key"], "cancel", body["id"], n))
        if req["first_outcome"] == "unknown":
            unknown_first += 1
            unknown_committed += stored is not None
        if req["outcome"] == "unknown":
            unknown_final += 1
            unknown_final_committed += stored is not None
        if req["outcome"] == "fail" and stored is not None:
            fail_but_committed.append(req["key"])
        if req["outcome"] == "ok":
            acknowledged[req["op"]] += 1
            body = req["attempts"][-1]["body"]
            if req["op"] == "scan":
                if body["id"] not in scan_ids or earn_sum.get(body["id"]) != body["points"]:
                    lost.append(("scan", req["key"], body["id"]))
            elif req["op"] == "redeem" and body["id"] not in red_ids:
                lost.append(("redeem", req["key"], body["id"]))
    figures["one_ledger_entry_per_key"] = "yes" if not wrong_entries else f"{len(wrong_entries)} keys wrong"
    if wrong_entries:
        failures.append(f"keys without exactly one ledger entry: {wrong_entries[:5]}")
    figures["acknowledged"] = dict(acknowledged)
    figures["lost"] = len(lost)
    if lost:
        failures.append(f"acknowledged but missing: {lost[:5]}")
    # Every scan / redemption / cancellation in the database came from one of our keys, once.
    duplicates = ((scans_total - committed["scan"]) + (redemptions_total - committed["redeem"])
                  + (cancelled_total - committed["cancel"]))
    figures["committed"] = committed
    figures["in_database"] = {"scans": scans_total, "redemptions": redemptions_total,
                              "cancelled": cancelled_total}
    figures["duplicates"] = duplicates
    if duplicates:
        failures.append(f"{duplicates} effects without a key of their own (done twice)")
    figures["fail_but_committed"] = len(fail_but_committed)
    if fail_but_committed:
        failures.append(f"{len(fail_but_committed)} requests answered 4xx/5xx yet committed")
    figures["unknown_first_attempt"] = unknown_first
    figures["unknown_first_attempt_committed"] = unknown_committed
    figures["unknown_after_retries"] = unknown_final
    figures["unknown_after_retries_committed"] = unknown_final_committed
    return figures, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=3_200)
    parser.add_argument("--out", default=str(harness.OUT / "faults.json"))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the private PostgreSQL runs as the postgres user (runuser)")
    d = args.seconds
    plan = [(0.12 * d, "kill_redis"), (0.12 * d + 4, "start_redis"),
            (0.35 * d, "restart_pg"), (0.55 * d, "kill_worker"), (0.70 * d, "kill_worker"),
            (0.80 * d, "kill_redis"), (0.80 * d + 3, "start_redis")]
    stock = 60
    log("starting a private PostgreSQL and Redis ...")
    with harness.private_services() as services, harness.stack(services, "faults") as s:
        world = harness.seed_world(s, users=args.users, shops=20, codes_per_shop=5, rewards=6,
                                   balance=200, reward_stock=stock, reward_cost=40, villages=8)
        s.start_gunicorn()
        log(f"gunicorn :{s.port}, {args.clients} clients for {d:.0f}s; faults at "
            + ", ".join(f"{at:.0f}s {what}" for at, what in plan))
        rec, events = Recorder(), []
        start = time.monotonic()
        deadline = start + d
        faults = threading.Thread(target=fault_schedule,
                                  args=(services, s, rec, start, events, plan), daemon=True)
        faults.start()
        harness.run_threads(args.clients, lambda i: client_loop(
            i, s.port, world, deadline, rec, stop_retrying_at=deadline + 30))
        faults.join()
        log("load over; checking invariants ...")
        s.stop_gunicorn()
        figures, failures = check(s, world, rec, stock)

    outcomes = Counter(r["outcome"] for r in rec.requests)
    by_op = {op: dict(Counter(r["outcome"] for r in rec.requests if r["op"] == op))
             for op in ("scan", "redeem", "cancel")}
    statuses = Counter(str(a["status"]) for r in rec.requests for a in r["attempts"])
    attempts = sum(len(r["attempts"]) for r in rec.requests)
    t0 = min((a["t"] for r in rec.requests for a in r["attempts"]), default=0)
    for e in events:
        at = e.pop("t")
        e["at_s"] = round(at - t0, 1)
        # Attempts under way when the fault struck that then lost their answer: for a
        # worker kill, the requests it was serving (it struck mid-request).
        e["cut_off_attempts"] = sum(
            1 for r in rec.requests for a in r["attempts"]
            if a["status"] is None and a["t"] <= at <= a["end"] and a["end"] - at <= 2)
    result = {"clients": args.clients, "seconds": d, "requests": len(rec.requests),
              "attempts": attempts, "outcomes": dict(outcomes), "by_op": by_op,
              "attempt_statuses": dict(statuses), "faults": events, "invariants": figures,
              "failures": failures, "pass": not failures}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    print(f"\nwrote {out}")
    return 0 if not failures else 1


def report(r):
    f = r["invariants"]
    print(f"\nEcoLife fault run: {r['clients']} clients, {r['seconds']:.0f} s, {r['requests']} requests "
          f"({r['attempts']} attempts with retries)")
    print(f"outcomes: {r['outcomes']}   by operation: {r['by_op']}")
    print(f"attempt statuses: {r['attempt_statuses']}")
    print("\nfaults")
    for e in r["faults"]:
        extra = {k: v for k, v in e.items() if k not in ("at_s", "fault")}
        print(f"  {e['at_s']:>6.1f}s  {e['fault']:<36} {extra}")
    print("\ninvariants")
    rows = [
        ("verify-ledger", f["verify_ledger"], f["verify_ledger"] == "clean"),
        ("negative balances", f["negative_balances"], f["negative_balances"] == 0),
        ("stock never below zero, vouchers = stock consumed",
         f"{f['stock_sold_out']} of {len(f['stock'])} rewards sold out",
         not any("stock" in x for x in r["failures"])),
        ("one ledger entry per Idempotency-Key", f["one_ledger_entry_per_key"],
         f["one_ledger_entry_per_key"] == "yes"),
        ("acknowledged credits lost", f"{f['lost']} (of {f['acknowledged']})", f["lost"] == 0),
        ("duplicates", f"{f['duplicates']}  (db {f['in_database']} = committed keys {f['committed']})",
         f["duplicates"] == 0),
        ("answered fail yet committed", f["fail_but_committed"], f["fail_but_committed"] == 0),
        ("unknown on first attempt / of them committed",
         f"{f['unknown_first_attempt']} / {f['unknown_first_attempt_committed']}", True),
        ("still unknown after retries / of them committed",
         f"{f['unknown_after_retries']} / {f['unknown_after_retries_committed']}", True),
    ]
    for name, value, ok in rows:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:<52} {value}")
    print("\nRESULT:", "PASS" if r["pass"] else "FAIL " + "; ".join(r["failures"]))


if __name__ == "__main__":
    sys.exit(main())
