"""Bulk-load a programme at scale: by default 1,000,000 residents and 10,000,000 ledger entries.

    .venv/bin/python -m bench.seed_scale --database-url postgresql://postgres@127.0.0.1/DB
    .venv/bin/python -m bench.seed_scale --keep         (a scratch database, kept; prints its URL)

Into an already migrated schema, with generate_series inside PostgreSQL (no rows cross the
wire). Each resident gets ``--entries`` credited scans: one scan, one ``earn`` ledger entry
with its running ``balance_after``, and one point lot each, exactly what ``POST /scans``
writes, so ``verify-ledger`` holds; balances, lifetime points and the villages' impact totals
are summed from them. The last scan of every resident falls in the current week, so the
weekly leaderboard holds everyone (the worst case for a board read). Secondary indexes are
dropped before the load and rebuilt after it from their own definitions (as a restore does),
foreign keys are not re-checked row by row (``session_replication_role = replica``: the data
is consistent by construction), then VACUUM ANALYZE leaves the tables as autovacuum would.
"""
import argparse
import sys
import time

import psycopg

from bench import harness

TABLES = ("users", "scans", "ledger_entries", "point_lots")
# Points of the default earning rules, by action id (see ecolife/defaults.py): the scans copy them.
POINTS_SQL = "(CASE p.action_id WHEN 2 THEN 2 ELSE 5 END)"
UNIT_SQL = ("(CASE p.action_id WHEN 1 THEN 'plastic_bag' WHEN 2 THEN 'straw' WHEN 3 THEN "
            "'plastic_cup' WHEN 4 THEN 'foam_box' ELSE 'plastic_bottle' END)")


def _secondary_indexes(conn):
    """(name, definition) of every index on TABLES that no constraint owns."""
    return conn.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        (list(TABLES),)).fetchall()


def seed(database_url, users=1_000_000, entries=10, shops=1_000, villages=200, log=harness.log):
    """Load the programme into the migrated, empty ``database_url``; returns timings (s)."""
    timings = {}
    started = time.monotonic()

    def step(name, sql, *params):
        t = time.monotonic()
        conn.execute(sql, params or None)
        timings[name] = round(time.monotonic() - t, 1)
        log(f"  {name}: {timings[name]} s")

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        dropped = _secondary_indexes(conn)
        for name, _ in dropped:
            conn.execute(f'DROP INDEX "{name}"')
        tambons = max(1, villages // 10)
        step("communities", f"""
            INSERT INTO communities (id, name, kind, parent_id, created_at) VALUES
              (1, 'ลำพูน Lamphun', 'province', NULL, now()),
              (2, 'เมืองลำพูน Mueang Lamphun', 'district', 1, now());
            INSERT INTO communities (id, name, kind, parent_id, created_at)
              SELECT 2 + t, 'ตำบล Tambon ' || t, 'tambon', 2, now() FROM generate_series(1, {tambons}) t;
            INSERT INTO communities (id, name, kind, parent_id, created_at)
              SELECT 2 + {tambons} + v, 'บ้าน Village ' || v, 'village', 3 + (v - 1) % {tambons}, now()
              FROM generate_series(1, {villages}) v;""")
        first_village = 3 + tambons
        step("users", f"""
            INSERT INTO users (id, email, password_hash, display_name, role, community_id, balance,
                               lifetime_points, streak_current, streak_best, created_at)
            SELECT g, 'r' || g || '@scale.ecolife.example', '!scale-no-login', 'ผู้ใช้ Resident ' || g,
                   'resident', {first_village} + (g - 1) % {villages}, 0, 0, 0, 0, now() - interval '400 days'
            FROM generate_series(1, {users}) g""")
        step("shops and codes", f"""
            INSERT INTO users (id, email, password_hash, display_name, role, balance, lifetime_points,
                               streak_current, streak_best, created_at)
            SELECT {users} + g, 's' || g || '@scale.ecolife.example', '!scale-no-login',
                   'ร้าน Shop owner ' || g, 'shop_owner', 0, 0, 0, 0, now() - interval '400 days'
            FROM generate_series(1, {shops}) g;
            INSERT INTO shops (id, owner_id, community_id, name, status, created_at, updated_at)
            SELECT g, {users} + g, {first_village} + (g - 1) % {villages}, 'ร้าน Shop ' || g,
                   'approved', now() - interval '400 days', now() - interval '400 days'
            FROM generate_series(1, {shops}) g;
            INSERT INTO qr_codes (id, shop_id, action_id, mode, kid, created_by, created_at)
            SELECT c, (c - 1) / 5 + 1, (c - 1) % 5 + 1, 'static', '0', {users} + (c - 1) / 5 + 1,
                   now() - interval '400 days'
            FROM generate_series(1, {shops * 5}) c;""")
        # One plan row per credited scan: who, which code, when. Entry e of user u has id
        # (u-1)*entries+e; entries spread over the past ~300 days, the last one this week.
        step("plan", f"""
            CREATE UNLOGGED TABLE scale_plan AS
            SELECT s.id, s.user_id, s.code_id, (s.code_id - 1) / 5 + 1 AS shop_id,
                   (s.code_id - 1) % 5 + 1 AS action_id, s.created_at
            FROM (
              SELECT (u - 1) * {entries} + e AS id, u AS user_id,
                     1 + ((u::bigint * 7919 + e * 104729) % {shops * 5})::int AS code_id,
                     CASE WHEN e = {entries}
                          THEN now() - (random() * least(extract(epoch FROM now() - date_trunc(
                                 'week', now() AT TIME ZONE 'Asia/Bangkok') AT TIME ZONE 'Asia/Bangkok'),
                                 86400 * 6)) * interval '1 second'
                          ELSE now() - (({entries} - e) * (300.0 / {entries}) + random()) * interval '1 day'
                     END AS created_at
              FROM generate_series(1, {users}) u, generate_series(1, {entries}) e
            ) s""")
        step("scans", f"""
            INSERT INTO scans (id, user_id, code_id, shop_id, action_id, points, impact_unit,
                               impact_amount, local_day, created_at)
            SELECT p.id, p.user_id, p.code_id, p.shop_id, p.action_id, {POINTS_SQL}, {UNIT_SQL}, 1,
                   (p.created_at AT TIME ZONE 'Asia/Bangkok')::date, p.created_at
            FROM scale_plan p""")
        step("ledger_entries", f"""
            INSERT INTO ledger_entries (id, user_id, delta, kind, balance_after, scan_id, shop_id,
                                        code_id, created_at)
            SELECT p.id, p.user_id, {POINTS_SQL}, 'earn',
                   sum({POINTS_SQL}) OVER (PARTITION BY p.user_id ORDER BY p.id),
                   p.id, p.shop_id, p.code_id, p.created_at
            FROM scale_plan p""")
        step("point_lots", f"""
            INSERT INTO point_lots (id, user_id, entry_id, amount, remaining, expires_at, created_at)
            SELECT p.id, p.user_id, p.id, {POINTS_SQL}, {POINTS_SQL},
                   p.created_at + interval '365 days', p.created_at
            FROM scale_plan p""")
        step("balances", f"""
            UPDATE users u SET balance = t.total, lifetime_points = t.total
            FROM (SELECT user_id, sum({POINTS_SQL}) AS total FROM scale_plan p GROUP BY user_id) t
            WHERE u.id = t.user_id""")
        step("impact_totals", f"""
            INSERT INTO impact_totals (community_id, impact_unit, amount)
            SELECT u.community_id, {UNIT_SQL}, count(*)
            FROM scale_plan p JOIN users u ON u.id = p.user_id
            GROUP BY u.community_id, {UNIT_SQL}""")
        conn.execute("DROP TABLE scale_plan")
        for table in ("communities", "users", "shops", "qr_codes", "scans", "ledger_entries",
                      "point_lots", "impact_totals"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        t = time.monotonic()
        for name, definition in dropped:
            conn.execute(definition)
        timings["indexes"] = round(time.monotonic() - t, 1)
        log(f"  indexes ({len(dropped)}): {timings['indexes']} s")
        conn.execute("SET session_replication_role = origin")
        t = time.monotonic()
        conn.execute("VACUUM (ANALYZE)")
        timings["vacuum_analyze"] = round(time.monotonic() - t, 1)
        log(f"  vacuum analyze: {timings['vacuum_analyze']} s")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("users", "scans", "ledger_entries", "point_lots")}
    timings["total"] = round(time.monotonic() - started, 1)
    return {"timings_s": timings, "size": size, "rows": counts}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a migrated, empty database (else a scratch one)")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=10, help="ledger entries per resident")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.database_url:
        print(seed(args.database_url, args.users, args.entries))
        return 0
    services = harness.ensure_system_services()
    with harness.stack(services, "scale", keep_db=args.keep) as s:
        harness.log(f"seeding {args.users:,} residents x {args.entries} entries into {s.database_url}")
        result = seed(s.database_url, args.users, args.entries)
        print(result)
        if args.keep:
            print(f"kept: {s.database_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
