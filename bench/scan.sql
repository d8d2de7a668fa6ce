-- pgbench: the SQL of one POST /scans with an Idempotency-Key (as the load mix sends it),
-- statement for statement. Compiled from the scan path's statements (ecolife/scans/service.py,
-- points/statements.py, badges/service.py; bench/scan_profile.py --show-sql prints them). bench/load.py
-- runs this with -M prepared, like psycopg's server-side prepared statements. Variables: nusers, ncodes, nvillages.
-- The seed (bench/harness.py) gives code c the action (c-1)%5+1 at shop (c-1)/5+1, and user u
-- the village 4+(u-1)%nvillages.
\set uid random(1, :nusers)
\set code random(1, :ncodes)
\set action (:code - 1) % 5 + 1
\set shop (:code - 1) / 5 + 1
\set village 4 + (:uid - 1) % :nvillages
-- Idempotency-Key: answered before? (before the transaction's work)
SELECT idempotency_keys.key, idempotency_keys.request_hash, idempotency_keys.response_status, idempotency_keys.response_body FROM idempotency_keys WHERE idempotency_keys.user_id = :uid AND idempotency_keys.key = 'pgbench-not-there';
BEGIN;
-- lock the user (every points movement starts here) and read, in the same round trip, the code
-- with its shop and rule and the user's community chain (the only load of the user)
SELECT users.id, users.role, users.community_id, users.balance, users.lifetime_points, users.streak_current, users.streak_best, users.streak_last_day, qr_codes.id AS id_1, qr_codes.mode, qr_codes.kid, qr_codes.secret, qr_codes.revoked_at, shops.id AS id_2, shops.name, shops.status, shops.latitude, shops.longitude, shops.geofence_m, actions.id AS id_3, actions.slug, actions.active, actions.points, actions.impact_unit, actions.impact_amount, actions.cooldown_minutes, actions.daily_limit, level_0.id AS id_4, level_1.id AS id_5, level_2.id AS id_6, level_3.id AS id_7 FROM users LEFT OUTER JOIN qr_codes ON qr_codes.id = :code LEFT OUTER JOIN shops ON shops.id = qr_codes.shop_id LEFT OUTER JOIN actions ON actions.id = qr_codes.action_id LEFT OUTER JOIN communities AS level_0 ON level_0.id = users.community_id LEFT OUTER JOIN communities AS level_1 ON level_1.id = level_0.parent_id LEFT OUTER JOIN communities AS level_2 ON level_2.id = level_1.parent_id LEFT OUTER JOIN communities AS level_3 ON level_3.id = level_2.parent_id WHERE users.id = :uid FOR NO KEY UPDATE OF users;
-- Idempotency-Key again, under the lock (once the code is known good)
SELECT idempotency_keys.key, idempotency_keys.request_hash, idempotency_keys.response_status, idempotency_keys.response_body FROM idempotency_keys WHERE idempotency_keys.user_id = :uid AND idempotency_keys.key = 'pgbench-not-there';
-- cooldown and daily limit in one round trip
SELECT (SELECT max(scans.created_at) FROM scans WHERE scans.user_id = :uid AND scans.code_id = :code AND scans.created_at > now() - interval '15 minutes') AS anon_1, (SELECT count(*) FROM scans WHERE scans.user_id = :uid AND scans.action_id = :action AND scans.local_day = (now() AT TIME ZONE 'Asia/Bangkok')::date) AS anon_2;
INSERT INTO scans (user_id, code_id, shop_id, action_id, points, impact_unit, impact_amount, community_id, local_day, latitude, longitude, created_at) VALUES (:uid, :code, :shop, :action, 5, 'plastic_bag', 1, :village, (now() AT TIME ZONE 'Asia/Bangkok')::date, NULL, NULL, now()) RETURNING scans.id AS scan_id \gset
-- balance, lifetime points and the streak in one conditional UPDATE of the locked row
UPDATE users SET balance=(users.balance + 5), lifetime_points=CASE WHEN (users.lifetime_points + 5 < 0) THEN 0 ELSE users.lifetime_points + 5 END, streak_current=1, streak_best=GREATEST(users.streak_best, 1), streak_last_day=(now() AT TIME ZONE 'Asia/Bangkok')::date WHERE users.id = :uid AND users.balance + 5 >= 0 RETURNING users.balance AS balance, users.lifetime_points \gset
INSERT INTO ledger_entries (user_id, delta, kind, balance_after, scan_id, redemption_id, shop_id, code_id, actor_id, reason, community_id, created_at) VALUES (:uid, 5, 'earn', :balance, :scan_id, NULL, :shop, :code, NULL, NULL, NULL, now()) RETURNING ledger_entries.id AS entry_id \gset
INSERT INTO point_lots (user_id, entry_id, amount, remaining, expires_at, created_at) VALUES (:uid, :entry_id, 5, 5, now() + interval '365 days', now()) RETURNING point_lots.id;
-- every badge question in one statement: owned flags and the counters the catalogue needs
SELECT EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 1) AS b1, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 2) AS b2, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 3) AS b3, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 4) AS b4, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 5) AS b5, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 6) AS b6, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 7) AS b7, EXISTS (SELECT * FROM user_badges WHERE user_badges.user_id = :uid AND user_badges.badge_id = 8) AS b8, anon_9.* FROM (SELECT count(scans.id) AS count_1, count(DISTINCT scans.shop_id) AS count_2, sum(CASE WHEN (scans.impact_unit = 'foam_box') THEN scans.impact_amount ELSE 0 END) AS sum_1, sum(CASE WHEN (scans.impact_unit = 'plastic_bag') THEN scans.impact_amount ELSE 0 END) AS sum_2 FROM scans WHERE scans.user_id = :uid) AS anon_9;
INSERT INTO impact_totals (community_id, impact_unit, amount) VALUES (:village, 'plastic_bag', 1) ON CONFLICT (community_id, impact_unit) DO UPDATE SET amount = (impact_totals.amount + excluded.amount) RETURNING impact_totals.id;
-- the response kept for replays
INSERT INTO idempotency_keys (user_id, key, endpoint, request_hash, response_status, response_body, created_at) VALUES (:uid, md5(random()::text || clock_timestamp()::text), 'scans.Scans', 'd197e0f333a6a4356cb7165df2182b2b9690fb1f2c8594ac26d69d694b0ccf13', 201, '{"id": 1, "points": 5, "shop": {"id": 1, "name": "ร้านกาแฟ Coffee shop 0"}, "action": "no_plastic_bag", "impact": {"unit": "plastic_bag", "amount": 1}, "created_at": "2026-11-28T17:16:24.533849+00:00", "balance": 1005, "new_badges": [], "level": {"number": 4, "name": "Young Tree", "points_to_next": 995}}', now()) RETURNING idempotency_keys.id;
COMMIT;
