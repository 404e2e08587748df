"""Time the report API on synthetic history in PostgreSQL.

    .venv/bin/python benchmarks/reports_bench.py               # reuse tsunagu_bench if filled
    .venv/bin/python benchmarks/reports_bench.py --fresh       # drop, migrate, generate, time
    .venv/bin/python benchmarks/reports_bench.py --fresh --scale 10m   # a year, 10M visits
    .venv/bin/python benchmarks/reports_bench.py --quick       # small data, under a minute

Generates history with generate_traffic into a dedicated database (`tsunagu_bench`, or
`tsunagu_bench_quick` for --quick; override with BENCH_DATABASE_URL), ending today so that the
wallboard's "today" has a full day to add up, then times each API call through Django's test
client as an analyst would make it, and prints the numbers for docs/benchmarks.md with the
load average at the time. Scales: 1m (default) is 30 days at ~33,400 calls a weekday (about a
million queue visits); 10m is 365 days at ~32,600 (about ten million: weekends get 45 %).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tsunagu_bench")
# (days, calls per weekday) of each --scale; --quick is small enough for `make bench`.
SCALES = {"1m": (30, 33_400), "10m": (365, 32_600)}
QUICK = (3, 1_500)


def _load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


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


def _psql(sql: str, *, in_bench_database: bool = False):
    """Run ``sql`` on the server's ``postgres`` database (to drop or create the benchmark's
    database), or in the benchmark's database."""
    base, name = BENCH_URL.rsplit("/", 1)
    target = name if in_bench_database else "postgres"
    subprocess.run(["psql", "-q", f"{base}/{target}", "-c", sql.format(name=name)], check=True)


def prepare(days: int, calls_per_day: int, seed: int):
    env = _environment()
    _psql("DROP DATABASE IF EXISTS {name}")
    _psql("CREATE DATABASE {name}")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], check=True, env=env, cwd=ROOT)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(env.get("TIME_ZONE", "Asia/Tokyo"))).date().isoformat()
    print(f"generating {days} days at {calls_per_day} calls a weekday ({_load()})", flush=True)
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
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"generated in {time.perf_counter() - started:.0f} s, peak RSS {peak} MB ({_load()})")
    started = time.perf_counter()
    # As autovacuum would after a bulk load, in the benchmark's own database: plans need the
    # statistics, and index-only scans the visibility map.
    _psql("VACUUM ANALYZE", in_bench_database=True)
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")


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
    from reports.models import AgentHourStats, QueueHourStats

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
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        [size] = cursor.fetchone()
    print(
        f"PostgreSQL {connection.pg_version // 10000}, {QueueVisit.objects.count()} queue visits "
        f"in all, {visits} in the 30 days, database {size}"
    )
    print(f"{'request':<45} {'min':>8} {'median':>8} {'max':>8}   (ms, {repeat} runs)")
    results = {}
    client.get("/api/wallboard/")  # open the connection
    QueueHourStats.objects.all().delete()
    started = time.perf_counter()
    client.get("/api/reports/queues/", cases[0][2])
    print(
        f"{'first queue report (settled hours added up)':<45} "
        f"{(time.perf_counter() - started) * 1000:8.1f}   ({_load()})"
    )
    AgentHourStats.objects.all().delete()
    started = time.perf_counter()
    client.get("/api/reports/agents/", month)
    print(
        f"{'first agent report (settled hours added up)':<45} "
        f"{(time.perf_counter() - started) * 1000:8.1f}   ({_load()})"
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
            f"{label:<45} {min(timings):8.1f} {statistics.median(timings):8.1f} "
            f"{max(timings):8.1f}   ({_load()})"
        )
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fresh", action="store_true", help="drop and regenerate the data")
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default="1m", help="history to generate (--fresh)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="three days at 1,500 calls a day in tsunagu_bench_quick (dropped after), 3 runs each",
    )
    parser.add_argument("--days", type=int, help="override the scale's days")
    parser.add_argument("--calls-per-day", type=int, help="override the scale's calls a day")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    days, calls = QUICK if args.quick else SCALES[args.scale]
    if args.quick:
        global BENCH_URL
        if "BENCH_DATABASE_URL" not in os.environ:
            BENCH_URL = BENCH_URL.rsplit("/", 1)[0] + "/tsunagu_bench_quick"
        args.fresh, args.repeat = True, min(args.repeat, 3)
    if args.fresh:
        prepare(args.days or days, args.calls_per_day or calls, args.seed)
    measure(args.repeat)
    if args.quick:
        from django.db import connections

        connections.close_all()
        _psql("DROP DATABASE {name}")  # a smoke test leaves nothing behind


if __name__ == "__main__":
    main()
