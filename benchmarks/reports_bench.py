"""Time the report API on a month of synthetic history in PostgreSQL.

    .venv/bin/python benchmarks/reports_bench.py               # reuse tsunagu_bench if filled
    .venv/bin/python benchmarks/reports_bench.py --fresh       # drop, migrate, generate, time

Generates 30 days at ~33,400 calls a day (about a million queue visits) with generate_traffic
into the dedicated database `tsunagu_bench` (override with BENCH_DATABASE_URL), ending today so
that the wallboard's "today" has a full day to add up, then times each API call through
Django's test client as an analyst would make it, and prints the numbers for docs/benchmarks.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsunagu_bench")


def _environment():
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": BENCH_URL,
            "DEBUG": "False",
            "SECRET_KEY": "bench-only-secret-key",
            "ALLOWED_HOSTS": "testserver,localhost",
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _psql(sql: str):
    base, name = BENCH_URL.rsplit("/", 1)
    subprocess.run(["psql", "-q", f"{base}/postgres", "-c", sql.format(name=name)], check=True)


def prepare(days: int, calls_per_day: int, seed: int):
    env = _environment()
    _psql("DROP DATABASE IF EXISTS {name}")
    _psql("CREATE DATABASE {name}")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], check=True, env=env, cwd=ROOT)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(env.get("TIME_ZONE", "Asia/Tokyo"))).date().isoformat()
    started = time.perf_counter()
    subprocess.run(
        [
            *manage,
            "generate_traffic",
            "--days",
            str(days),
            "--calls-per-day",
            str(calls_per_day),
            "--seed",
            str(seed),
            "--end",
            today,
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )
    print(f"generated in {time.perf_counter() - started:.0f} s")
    _psql("VACUUM ANALYZE")  # as autovacuum would after a bulk load; plans need the statistics


def measure(repeat: int):
    os.environ.update(_environment())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from queues.models import QueueVisit
    from reports.metrics import local_today
    from reports.models import QueueHourStats

    user, _ = get_user_model().objects.get_or_create(
        username="bench-superuser", defaults={"is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    today = local_today(timezone.now())
    month = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}
    cases = [
        (
            "queue report, 30 days by day, all queues",
            "/api/reports/queues/",
            {**month, "interval": "day"},
        ),
        (
            "queue report, 30 days by day, one queue",
            "/api/reports/queues/",
            {**month, "interval": "day", "queue": "support"},
        ),
        (
            "queue report, 30 days by hour, all queues",
            "/api/reports/queues/",
            {**month, "interval": "hour"},
        ),
        ("queue report, 30 days in total", "/api/reports/queues/", {**month, "interval": "total"}),
        ("agent report, 30 days", "/api/reports/agents/", month),
        ("wallboard", "/api/wallboard/", {}),
    ]
    visits = QueueVisit.objects.filter(entered_at__date__gte=today - timedelta(days=29)).count()
    print(f"PostgreSQL {connection.pg_version // 10000}, {visits} queue visits in the 30 days")
    print(f"{'request':<45} {'min':>8} {'median':>8} {'max':>8}   (ms, {repeat} runs)")
    results = {}
    client.get("/api/wallboard/")  # open the connection
    QueueHourStats.objects.all().delete()
    started = time.perf_counter()
    client.get("/api/reports/queues/", cases[0][2])
    print(
        f"{'first queue report (settled hours added up)':<45} "
        f"{(time.perf_counter() - started) * 1000:8.1f}"
    )
    for label, url, params in cases:
        client.get(url, params)  # warm the caches
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
        results[label] = timings
        print(
            f"{label:<45} {min(timings):8.1f} {statistics.median(timings):8.1f} {max(timings):8.1f}"
        )
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fresh", action="store_true", help="drop and regenerate the data")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls-per-day", type=int, default=33_400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if args.fresh:
        prepare(args.days, args.calls_per_day, args.seed)
    measure(args.repeat)


if __name__ == "__main__":
    main()
