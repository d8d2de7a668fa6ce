"""What every benchmark shares: services, a scratch database, gunicorn, seed data, an HTTP client.

Nothing here touches data it did not create: each run makes a database of its own
(``ecolife_bench_<hex>``, dropped at the end) and a Redis key prefix of its own (its keys
deleted at the end by SCAN MATCH, never FLUSHDB). ``private_services`` runs a PostgreSQL
cluster and a Redis of the run's own on spare ports, for the fault run, which kills them.
"""
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
# What the codes print: production mode wants it said; the clients send it back as scanned.
BENCH_BASE_URL = "https://ecolife.bench.example"
VENV_BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "bench" / "gunicorn.conf.py"
OUT = ROOT / "bench" / "out"
PG_SERVER = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
REDIS_ARGS = ["--save", "", "--appendonly", "no"]
PG_VERSION_DIR = Path("/usr/lib/postgresql")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


# --- services ------------------------------------------------------------------------------

def pg_ready(url):
    import psycopg

    with psycopg.connect(url, connect_timeout=2) as conn:
        conn.execute("SELECT 1")
    return True


def redis_ready(url):
    import redis

    return redis.Redis.from_url(url, socket_timeout=1).ping()


def ensure_system_services():
    """The machine's PostgreSQL and Redis, started the way .ci/run starts them if they are down."""
    try:
        pg_ready(PG_SERVER)
    except Exception:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       check=False)
        wait_for(lambda: pg_ready(PG_SERVER), 30, "PostgreSQL")
    try:
        redis_ready(REDIS_URL)
    except Exception:
        os.makedirs("/var/lib/redis", exist_ok=True)
        os.makedirs("/var/log/redis", exist_ok=True)
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                        "--port", "6379", *REDIS_ARGS, "--dir", "/var/lib/redis",
                        "--logfile", "/var/log/redis/ci.log"], check=True)
        wait_for(lambda: redis_ready(REDIS_URL), 30, "Redis")
    return SimpleNamespace(pg_server=PG_SERVER, redis_url=REDIS_URL)


class PrivateRedis:
    """A redis-server of our own on a spare port, configured like the machine's."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="ecolife-bench-redis-")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), *REDIS_ARGS,
             "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")])
        wait_for(lambda: redis_ready(self.url), 15, "private Redis")

    def kill(self):
        """SIGKILL, as a crash would: nothing is saved (nothing is meant to be)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temp dir, run as ``postgres``)."""

    def __init__(self):
        versions = sorted(os.listdir(PG_VERSION_DIR), key=lambda v: int(v))
        self.bin = PG_VERSION_DIR / versions[-1] / "bin"
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ecolife-bench-pg-")
        self.data = os.path.join(self.dir, "data")
        self.server = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        shutil.chown(self.dir, "postgres", "postgres")

    def _as_postgres(self, *args, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def init(self):
        self._as_postgres(str(self.bin / "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
                          "-E", "UTF8", "--locale=C.UTF-8")
        return self

    def start(self):
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", self.data, "-o", opts, "-l",
                          os.path.join(self.dir, "pg.log"), "-w", "-t", "60", "start")
        wait_for(lambda: pg_ready(self.server), 30, "private PostgreSQL")

    def stop(self, mode="fast"):
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop",
                          check=False)

    def restart_immediate(self):
        """Stop with ``-m immediate`` (no checkpoint: crash recovery on start), then start."""
        self.stop("immediate")
        self.start()

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def private_services():
    """Own PostgreSQL and Redis that a fault run may kill without touching anyone else's."""
    pg, rd = PrivatePostgres(), PrivateRedis()
    try:
        pg.init().start()
        rd.start()
        yield SimpleNamespace(pg_server=pg.server, redis_url=rd.url, pg=pg, redis=rd)
    finally:
        rd.stop()
        pg.destroy()


# --- scratch database --------------------------------------------------------------------------

@contextlib.contextmanager
def scratch_database(pg_server, label="bench", keep=False):
    """CREATE DATABASE ecolife_<label>_<hex>; yields its URL; DROP ... WITH (FORCE) at the end."""
    import psycopg

    name = f"ecolife_{label}_{secrets.token_hex(4)}"
    base, _, _ = pg_server.rpartition("/")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        if not keep:
            with psycopg.connect(pg_server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    """One EcoLife deployment under test: its settings, database, Redis prefix and app."""

    database_url: str
    redis_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    redis_prefix: str = field(default_factory=lambda: f"ecolife-bench:{secrets.token_hex(4)}:")
    log_path: Path = OUT / "gunicorn.log"
    gunicorn: subprocess.Popen | None = None
    port: int | None = None
    _app: object = None

    def env(self):
        env = dict(os.environ)
        env.update(
            ECOLIFE_ENV="production",
            SECRET_KEY=self.secret_key,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            REDIS_KEY_PREFIX=self.redis_prefix,
            ACCESS_TOKEN_MINUTES="240",  # tokens minted once must outlive the run
            PUBLIC_BASE_URL=BENCH_BASE_URL,
            PYTHONPATH=str(ROOT),
        )
        return env

    def app(self):
        """The app with the deployment's settings, for migrations, seeding and tokens."""
        if self._app is None:
            from config import ProductionConfig, _database_url

            stack = self

            class BenchConfig(ProductionConfig):
                ECOLIFE_ENV = "production"
                SECRET_KEY = stack.secret_key
                SQLALCHEMY_DATABASE_URI = _database_url(stack.database_url)
                REDIS_URL = stack.redis_url
                REDIS_KEY_PREFIX = stack.redis_prefix
                ACCESS_TOKEN_MINUTES = 240
                PUBLIC_BASE_URL = BENCH_BASE_URL

            import logging

            from ecolife import create_app

            self._app = create_app(BenchConfig)
            logging.getLogger().setLevel(logging.WARNING)
        return self._app

    def migrate(self):
        """``flask db upgrade``: the schema only ever comes from the migrations."""
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                       env=self.env(), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start_gunicorn(self, extra_env=None):
        self.port = free_port()
        env = self.env()
        env["BENCH_BIND"] = f"127.0.0.1:{self.port}"
        env.update(extra_env or {})
        self.gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "wsgi:app"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"))
        wait_for(self._ready, 60, "gunicorn /readyz", interval=0.2)
        return self.port

    def _ready(self):
        if self.gunicorn.poll() is not None:
            raise SystemExit(f"gunicorn exited with {self.gunicorn.returncode}; see {self.log_path}")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.gunicorn.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def busiest_worker(self):
        """(pid, open client connections) of the worker holding the most keep-alive clients."""
        out = subprocess.run(["ss", "-Htnp", "state", "established", f"sport = :{self.port}"],
                             capture_output=True, text=True).stdout
        counts = {pid: 0 for pid in self.worker_pids()}
        for match in re.finditer(r"pid=(\d+)", out):
            pid = int(match.group(1))
            if pid in counts:
                counts[pid] += 1
        return max(counts.items(), key=lambda item: item[1])

    def stop_gunicorn(self):
        if self.gunicorn and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)
            try:
                self.gunicorn.wait(30)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
                self.gunicorn.wait()

    def delete_redis_keys(self):
        import redis

        with contextlib.suppress(Exception):
            client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
            batch = []
            for key in client.scan_iter(match=self.redis_prefix + "*", count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    client.unlink(*batch)
                    batch = []
            if batch:
                client.unlink(*batch)


@contextlib.contextmanager
def stack(services, label="bench", keep_db=False):
    """A migrated scratch database and a Redis prefix; gunicorn stopped and all removed after."""
    OUT.mkdir(parents=True, exist_ok=True)
    with scratch_database(services.pg_server, label, keep=keep_db) as url:
        s = Stack(database_url=url, redis_url=services.redis_url,
                  log_path=OUT / f"gunicorn-{label}.log")
        s.log_path.write_bytes(b"")  # this run's log only
        try:
            s.migrate()
            yield s
        finally:
            s.stop_gunicorn()
            if s._app is not None:
                from ecolife.extensions import db

                with s._app.app_context():
                    db.engine.dispose()
            s.delete_redis_keys()


# --- seed data ---------------------------------------------------------------------------------

@dataclass
class World:
    """What was seeded, and what a client needs to act as each user."""

    user_ids: list
    user_tokens: dict  # user id -> bearer token
    code_tokens: list  # QR token strings of active static codes
    reward_ids: list
    operator_token: str
    opening_balance: int


def seed_world(s, users=20_000, shops=200, codes_per_shop=5, rewards=20, balance=1_000,
               reward_stock=None, reward_cost=50, villages=20):
    """Residents with an opening balance (ledger entry + lot), approved shops, codes, rewards.

    Inserted with SQLAlchemy Core into the migrated schema (column defaults applied), so
    the data is exactly what the app would have written; tokens are minted with the app's
    own keys, never through the rate-limited login.
    """
    from datetime import timedelta

    from sqlalchemy import insert, select

    from ecolife.actions.models import Action
    from ecolife.auth.tokens import issue_access_token
    from ecolife.codes import tokens
    from ecolife.codes.keys import qr_keys, signing_kid
    from ecolife.codes.models import QrCode
    from ecolife.communities.models import Community
    from ecolife.extensions import db
    from ecolife.points.models import LedgerEntry, PointLot
    from ecolife.rewards.models import Reward
    from ecolife.shops.models import Shop
    from ecolife.timeutil import utcnow
    from ecolife.users.models import User

    app = s.app()
    now = utcnow()
    with app.app_context():
        session = db.session

        def add(model, rows):
            return session.execute(insert(model).returning(model.id), rows).scalars().all()

        province = add(Community, [{"name": "ลำพูน Lamphun", "kind": "province", "created_at": now}])[0]
        district = add(Community, [{"name": "เมืองลำพูน Mueang Lamphun", "kind": "district",
                                    "parent_id": province, "created_at": now}])[0]
        tambon = add(Community, [{"name": "อุโมงค์ Umong", "kind": "tambon", "parent_id": district,
                                  "created_at": now}])[0]
        village_ids = add(Community, [{"name": f"บ้าน {i} Village {i}", "kind": "village",
                                       "parent_id": tambon, "created_at": now}
                                      for i in range(villages)])
        hash_ = "!bench-no-login"
        user_ids = []
        for start in range(0, users, 5000):
            user_ids += add(User, [
                {"email": f"bench{n}@ecolife.example", "password_hash": hash_,
                 "display_name": f"ผู้ใช้ Resident {n}", "role": "resident",
                 "community_id": village_ids[n % villages], "balance": balance,
                 "lifetime_points": balance, "created_at": now}
                for n in range(start, min(start + 5000, users))])
        if balance:
            for start in range(0, len(user_ids), 5000):
                chunk = user_ids[start:start + 5000]
                entry_ids = add(LedgerEntry, [
                    {"user_id": uid, "delta": balance, "kind": "adjust", "balance_after": balance,
                     "reason": "bench opening balance", "created_at": now} for uid in chunk])
                session.execute(insert(PointLot), [
                    {"user_id": uid, "entry_id": eid, "amount": balance, "remaining": balance,
                     "expires_at": now + timedelta(days=365), "created_at": now}
                    for uid, eid in zip(chunk, entry_ids)])
        owners = add(User, [{"email": f"shop{n}@ecolife.example", "password_hash": hash_,
                             "display_name": f"ร้าน Shop owner {n}", "role": "shop_owner",
                             "created_at": now} for n in range(shops)])
        operator = add(User, [{"email": "operator@bench.ecolife.example", "password_hash": hash_,
                               "display_name": "Operator", "role": "operator", "created_at": now}])[0]
        shop_ids = add(Shop, [{"owner_id": owner, "community_id": village_ids[n % villages],
                               "name": f"ร้านกาแฟ Coffee shop {n}", "status": "approved",
                               "created_at": now, "updated_at": now}
                              for n, owner in enumerate(owners)])
        actions = session.execute(select(Action.id).order_by(Action.id)).scalars().all()
        kid = signing_kid()
        code_rows = [{"shop_id": shop, "action_id": actions[i % len(actions)], "mode": "static",
                      "kid": kid, "created_by": owners[n], "created_at": now}
                     for n, shop in enumerate(shop_ids) for i in range(codes_per_shop)]
        code_ids = add(QrCode, code_rows)
        reward_ids = add(Reward, [{"name": f"ส่วนลด Voucher {n}", "cost_points": reward_cost,
                                   "stock": reward_stock, "stock_left": reward_stock,
                                   "voucher_valid_days": 30, "created_at": now,
                                   "updated_at": now} for n in range(rewards)])
        session.commit()
        key = qr_keys()[kid]
        code_tokens = [tokens.sign_static(cid, key, kid) for cid in code_ids]
        user_tokens = {uid: issue_access_token(SimpleNamespace(id=uid, role="resident"))[0]
                       for uid in user_ids}
        operator_token = issue_access_token(SimpleNamespace(id=operator, role="operator"))[0]
        session.remove()
    return World(user_ids, user_tokens, code_tokens, reward_ids, operator_token, balance)


# --- HTTP client -------------------------------------------------------------------------------

class Client:
    """One keep-alive connection; a failed exchange closes it and the next one reconnects."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1", keepalive=True):
        self.host, self.port, self.timeout = host, port, timeout
        self.keepalive = keepalive
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status or None, parsed JSON or None, milliseconds, error text or None)."""
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        if not self.keepalive:
            hdrs["Connection"] = "close"
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=hdrs)
            response = self.conn.getresponse()
            raw = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return response.status, parsed, elapsed, None
        except Exception as exc:  # timeout, reset, refused: the outcome is unknown
            self.close()
            return None, None, (time.perf_counter() - started) * 1000, type(exc).__name__

    def close(self):
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


def run_threads(count, target):
    """Run ``target(index)`` in ``count`` threads; returns their results in order."""
    results = [None] * count

    def wrap(i):
        results[i] = target(i)

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values) + 0.5)) - 1))]


def summarize(samples, seconds):
    """{count, rps, p50, p95, p99, max, statuses, errors} of [(status, ms)]."""
    ms = sorted(m for _, m in samples)
    statuses = {}
    for status, _ in samples:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    errors = sum(n for st, n in statuses.items() if st == "None" or st.startswith("5"))
    return {
        "count": len(samples),
        "rps": round(len(samples) / seconds, 1) if seconds else None,
        "p50_ms": _r(percentile(ms, 0.50)),
        "p95_ms": _r(percentile(ms, 0.95)),
        "p99_ms": _r(percentile(ms, 0.99)),
        "max_ms": _r(ms[-1] if ms else None),
        "statuses": statuses,
        "errors": errors,
    }


def _r(value):
    return None if value is None else round(value, 2)


def rng_for(i, seed=20261128):
    return random.Random(seed * 1000 + i)
