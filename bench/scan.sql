-- pgbench: the SQL of one POST /scans, statement for statement, as EcoLife sends it.
-- Captured from SQLAlchemy's log of a credited scan (bench/load.py runs this with -M prepared,
-- like psycopg's server-side prepared statements). Variables: nusers, ncodes, nvillages.
-- The seed (bench/harness.py) gives code c the action (c-1)%5+1 at shop (c-1)/5+1, and user u
-- the village 4+(u-1)%nvillages.
\set uid random(1, :nusers)
\set code random(1, :ncodes)
\set action (:code - 1) % 5 + 1
\set shop (:code - 1) / 5 + 1
\set village 4 + (:uid - 1) % :nvillages
BEGIN;
-- the bearer token's user
SELECT users.id, users.email, users.phone, users.password_hash, users.display_name, users.role, users.community_id, users.balance, users.lifetime_points, users.streak_current, users.streak_best, users.streak_last_day, users.created_at FROM users WHERE users.id = :uid;
-- Idempotency-Key: answered before?
SELECT idempotency_keys.id, idempotency_keys.user_id, idempotency_keys.key, idempotency_keys.endpoint, idempotency_keys.request_hash, idempotency_keys.response_status, idempotency_keys.response_body, idempotency_keys.created_at FROM idempotency_keys WHERE idempotency_keys.user_id = :uid AND idempotency_keys.key = 'pgbench-not-there';
-- the code, then its shop and earning rule in one round trip
SELECT qr_codes.id, qr_codes.shop_id, qr_codes.action_id, qr_codes.mode, qr_codes.kid, qr_codes.secret, qr_codes.created_by, qr_codes.created_at, qr_codes.revoked_at FROM qr_codes WHERE qr_codes.id = :code;
SELECT shops.id, shops.owner_id, shops.community_id, shops.name, shops.address, shops.latitude, shops.longitude, shops.geofence_m, shops.category, shops.status, shops.created_at, shops.updated_at, actions.id AS id_1, actions.slug, actions.name AS name_1, actions.name_th, actions.points, actions.impact_unit, actions.impact_amount, actions.cooldown_minutes, actions.daily_limit, actions.active, actions.created_at AS created_at_1, actions.updated_at AS updated_at_1 FROM qr_codes JOIN shops ON shops.id = qr_codes.shop_id JOIN actions ON actions.id = qr_codes.action_id WHERE qr_codes.id = :code;
-- lock the user: every points movement starts here
SELECT users.id, users.email, users.phone, users.password_hash, users.display_name, users.role, users.community_id, users.balance, users.lifetime_points, users.streak_current, users.streak_best, users.streak_last_day, users.created_at FROM users WHERE users.id = :uid FOR UPDATE;
-- Idempotency-Key again, under the lock
SELECT idempotency_keys.id, idempotency_keys.user_id, idempotency_keys.key, idempotency_keys.endpoint, idempotency_keys.request_hash, idempotency_keys.response_status, idempotency_keys.response_body, idempotency_keys.created_at FROM idempotency_keys WHERE idempotency_keys.user_id = :uid AND idempotency_keys.key = 'pgbench-not-there';
-- cooldown and daily limit in one round trip
SELECT (SELECT max(scans.created_at) AS max_1 FROM scans WHERE scans.user_id = :uid AND scans.code_id = :code AND scans.created_at > now() - interval '15 minutes') AS anon_1, (SELECT count(*) AS count_1 FROM scans WHERE scans.user_id = :uid AND scans.action_id = :action AND scans.local_day = (now() AT TIME ZONE 'Asia/Bangkok')::date) AS anon_2;
INSERT INTO scans (user_id, code_id, shop_id, action_id, points, impact_unit, impact_amount, local_day, latitude, longitude, created_at) VALUES (:uid, :code, :shop, :action, 5, 'plastic_bag', 1, (now() AT TIME ZONE 'Asia/Bangkok')::date, NULL, NULL, now()) RETURNING scans.id AS scan_id \gset
UPDATE users SET balance=(users.balance + 5), lifetime_points=(users.lifetime_points + 5) WHERE users.id = :uid AND users.balance + 5 >= 0 RETURNING users.balance AS balance, users.lifetime_points \gset
INSERT INTO ledger_entries (user_id, delta, kind, balance_after, scan_id, redemption_id, shop_id, code_id, actor_id, reason, created_at) VALUES (:uid, 5, 'earn', :balance, :scan_id, NULL, :shop, :code, NULL, NULL, now()) RETURNING ledger_entries.id AS entry_id \gset
INSERT INTO point_lots (user_id, entry_id, amount, remaining, expires_at, created_at) VALUES (:uid, :entry_id, 5, 5, now() + interval '365 days', now()) RETURNING point_lots.id;
-- streak, badges, impact (gamification.on_credit)
UPDATE users SET streak_current=1, streak_best=1, streak_last_day=(now() AT TIME ZONE 'Asia/Bangkok')::date WHERE users.id = :uid;
SELECT badges.id, badges.slug, badges.name, badges.description, badges.criteria, badges.active, badges.created_at FROM badges WHERE badges.active IS true AND (badges.id NOT IN (SELECT user_badges.badge_id FROM user_badges WHERE user_badges.user_id = :uid)) ORDER BY badges.id;
SELECT count(scans.id) AS scan_count, count(DISTINCT scans.shop_id) AS distinct_shops, coalesce(sum(CASE WHEN (scans.impact_unit = 'foam_box') THEN scans.impact_amount ELSE 0 END), 0) AS unit_0, coalesce(sum(CASE WHEN (scans.impact_unit = 'plastic_bag') THEN scans.impact_amount ELSE 0 END), 0) AS unit_1 FROM scans WHERE scans.user_id = :uid;
INSERT INTO impact_totals (community_id, impact_unit, amount) VALUES (:village, 'plastic_bag', 1) ON CONFLICT (community_id, impact_unit) DO UPDATE SET amount = (impact_totals.amount + excluded.amount) RETURNING impact_totals.id;
-- the response kept for replays
INSERT INTO idempotency_keys (user_id, key, endpoint, request_hash, response_status, response_body, created_at) VALUES (:uid, md5(random()::text || clock_timestamp()::text), 'scans.Scans', 'd197e0f333a6a4356cb7165df2182b2b9690fb1f2c8594ac26d69d694b0ccf13', 201, '{"id": 1, "points": 5, "shop": {"id": 1, "name": "ร้านกาแฟ Coffee shop 0"}, "action": "no_plastic_bag", "impact": {"unit": "plastic_bag", "amount": 1}, "created_at": "2026-11-28T17:16:24.533849+00:00", "balance": 1005, "new_badges": [], "level": {"number": 4, "name": "Young Tree", "points_to_next": 995}}', now()) RETURNING idempotency_keys.id;
COMMIT;
-- after the commit: the village's chain up to the province, for the leaderboards
SELECT communities.id, communities.name, communities.kind, communities.parent_id, communities.created_at FROM communities WHERE communities.id = :village;
SELECT communities.id, communities.name, communities.kind, communities.parent_id, communities.created_at FROM communities WHERE communities.id = 3;
SELECT communities.id, communities.name, communities.kind, communities.parent_id, communities.created_at FROM communities WHERE communities.id = 2;
SELECT communities.id, communities.name, communities.kind, communities.parent_id, communities.created_at FROM communities WHERE communities.id = 1;
