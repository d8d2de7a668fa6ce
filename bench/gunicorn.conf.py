"""gunicorn for this 2-core machine, as the benchmarks run it (``gunicorn -c bench/gunicorn.conf.py wsgi:app``).

A scan costs about 4 ms of Python CPU (bench/scan_profile.py), so one process (one GIL) cannot use
both cores: more than one worker. Threads cover the waits on PostgreSQL and Redis, and they matter
more than it seems, because a keep-alive connection stays with the worker that accepted it and
gthread workers accept unevenly (one worker held 14 of 16 clients' connections in one run): a worker
with few threads then queues requests while another idles. Measured on this 2-core machine, 16
keep-alive clients scanning, the three settings served side by side in alternating rounds (median of
5 rounds): 3 workers x 8 threads 238 scans/s (p99 138 ms), 2 x 8 220/s (p99 193 ms), 4 x 4 187/s
(p99 209 ms). Hence cores + 1 workers of 8 threads.
Every value can be overridden from the environment for experiments (BENCH_BIND, BENCH_WORKERS,
...). It binds 127.0.0.1:8000, the benchmarks' address; behind a load balancer pass
``--bind 0.0.0.0:8000``: gunicorn's command line overrides this file.
"""
import multiprocessing
import os

bind = os.environ.get("BENCH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("BENCH_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("BENCH_WORKER_CLASS", "gthread")
threads = int(os.environ.get("BENCH_THREADS", "8"))
keepalive = 30  # the load clients keep their connections open
backlog = 2048
timeout = 30
graceful_timeout = 10
# Load the app in each worker after the fork: no database connection is shared by two processes.
preload_app = False
accesslog = None
errorlog = "-"
loglevel = os.environ.get("BENCH_LOGLEVEL", "warning")
