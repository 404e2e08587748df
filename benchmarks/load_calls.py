"""Load benchmark: many concurrent emulated calls against the real app under gunicorn, over HTTP.

    .venv/bin/python benchmarks/load_calls.py --calls 300 --agents 8 --workers 3 --clients 4

(Re)creates the PostgreSQL database `tsunagu_load` on the local server (`--database-url`),
migrates it, runs `seed_demo` and adds agents to the `support` queue, starts
`gunicorn config.wsgi` on 127.0.0.1 (a free port, DEBUG=False, throwaway SECRET_KEY and
TWILIO_AUTH_TOKEN), then drives the demo number +815012345678 with the Twilio emulator
(`emulator`, `HttpTransport`) from `--clients` processes, each running its own
emulator with its own slice of the callers and of the agents. It prints requests per second,
latency percentiles per webhook kind, errors, and whether the queue visits stored in the
database equal the emulator's ground truth; then it stops gunicorn. See docs/benchmarks.md.
"""

import argparse
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator import Caller, Emulator, HttpTransport  # noqa: E402

NUMBER = "+815012345678"
QUEUE = "support"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tsunagu_load"
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # the virtual clock's zero

# Webhook kinds, by the path the emulator requested (first match wins).
KINDS = [
    ("incoming", re.compile(r"^/twilio/voice/incoming$")),
    ("status", re.compile(r"^/twilio/voice/status$")),
    ("fallback", re.compile(r"^/twilio/voice/fallback$")),
    ("outgoing", re.compile(r"^/twilio/agent/outgoing$")),
    ("gather", re.compile(r"^/twilio/ivr/flows/\d+/steps/\d+/(gather|no-input)$")),
    ("ivr step", re.compile(r"^/twilio/ivr/flows/\d+/(start|steps/\d+)$")),
    ("queue wait", re.compile(r"^/twilio/queues/[^/]+/wait$")),
    ("exit", re.compile(r"^/twilio/(queues/[^/]+/exit|ivr/flows/\d+/steps/\d+/queue-exit)$")),
    ("connect", re.compile(r"^/twilio/queues/[^/]+/connect$")),
    ("dial action", re.compile(r"^/(twilio/queues/[^/]+|agent/twilio|twilio/ivr/.+)/dial-action$")),
]
KIND_ORDER = [name for name, _ in KINDS] + ["other"]


def webhook_kind(path: str) -> str:
    for name, pattern in KINDS:
        if pattern.match(path):
            return name
    return "other"


class TimedTransport(HttpTransport):
    """HttpTransport that notes (kind, status, seconds) of every request it sends."""

    def __init__(self, base_url: str, *, timeout: float = 15.0):
        super().__init__(base_url, timeout=timeout)
        self.records: list[tuple[str, int, float]] = []  # status 0: unreachable or timed out

    def send(self, method, url, *, body, headers):
        kind = webhook_kind(urllib.request.urlparse(url).path)
        started = time.monotonic()
        try:
            response = super().send(method, url, body=body, headers=headers)
        except Exception:
            self.records.append((kind, 0, time.monotonic() - started))
            raise
        self.records.append((kind, response.status, response.elapsed))
        return response


@dataclass
class CallPlan:
    at: float
    from_: str
    digits: list[str]
    patience: float | None
    talk_seconds: float | None


@dataclass
class SliceSpec:
    base_url: str
    account_sid: str
    auth_token: str
    calls: list[CallPlan]
    agents: list[tuple[str, float]]  # (identity, talk seconds)
    max_wall_seconds: float
    play_seconds: float = 30.0


@dataclass
class SliceResult:
    records: list[tuple[str, int, float]] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    emulator_errors: dict[int, int] = field(default_factory=dict)
    cut_short: int = 0
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0
    spans: list[tuple[float, float]] = field(default_factory=list)  # callers' (start, end)


def plan_calls(
    calls: int, agents: int, seed: int, arrival_seconds: float | None = None
) -> list[CallPlan]:
    """The demo mix: key 1 (60 %), silence (20 %, also queued), key 2 (20 %, no queue).

    Arrivals are uniform over `arrival_seconds` of virtual time; by default spread so that the
    queued callers keep the agents about 80 % busy (agents take one caller after another, few
    wait long). A shorter window piles callers up in the queue."""
    rng = random.Random(seed)
    queued_share, mean_handling = 0.8, 3 + 105  # ring + mean talk of the agents below
    window = arrival_seconds or calls * queued_share * mean_handling / (0.8 * max(agents, 1))
    plans = []
    for n in range(calls):
        choice = rng.random()
        digits = ["1"] if choice < 0.6 else ["-"] if choice < 0.8 else ["2"]
        plans.append(
            CallPlan(
                at=round(rng.uniform(0, window), 1),
                from_=f"+8190{n:08d}",
                digits=digits,
                patience=rng.choice([None, None, None, rng.uniform(20, 180)]),
                talk_seconds=rng.choice([None, rng.uniform(30, 180)]),
            )
        )
    return sorted(plans, key=lambda plan: plan.at)


def run_slice(spec: SliceSpec) -> SliceResult:
    """One emulator with its own callers and agents, run until every call ended (or time is up).

    The emulator is a discrete-event simulation: it sends one request at a time and never
    sleeps, so each slice keeps one request in flight against the server at all times."""
    transport = TimedTransport(spec.base_url)
    emu = Emulator(
        transport=transport,
        account_sid=spec.account_sid,
        auth_token=spec.auth_token,
        base_url=spec.base_url,
        start=START,
        play_seconds=spec.play_seconds,
    )
    emu.add_number(
        NUMBER,
        voice_url="/twilio/voice/incoming",
        status_callback="/twilio/voice/status",
        fallback_url="/twilio/voice/fallback",
    )
    emu.configure_client_app(
        voice_url="/twilio/agent/outgoing", status_callback="/twilio/voice/status"
    )
    for identity, talk in spec.agents:
        emu.add_agent(identity, answer_after=3, talk_seconds=talk, takes_queues=(QUEUE,))
    calls = [
        emu.place_call(
            to=NUMBER,
            from_=plan.from_,
            caller=Caller(
                digits=plan.digits, patience=plan.patience, talk_seconds=plan.talk_seconds
            ),
            at=plan.at,
        )
        for plan in spec.calls
    ]
    last_arrival = max((plan.at for plan in spec.calls), default=0.0)
    result = SliceResult()
    started = time.monotonic()
    step = 300.0
    until = 0.0
    while True:
        until += step
        emu.run(until=until)
        if until > last_arrival and all(call.ended for call in emu.calls):
            break
        over_time = time.monotonic() - started > spec.max_wall_seconds
        if over_time or until > last_arrival + 4 * 3600:  # Twilio ends calls after 4 hours
            # Everyone still on the line hangs up, so the app sees every call end.
            result.cut_short = emu.hangup_all("caller")
            emu.run(until=emu.now + 3600)
            break
    result.wall_seconds = time.monotonic() - started
    result.virtual_seconds = emu.now
    result.records = transport.records
    result.truth = emu.ground_truth()
    result.statuses = dict(Counter(str(call.status) for call in calls))
    result.spans = [
        (plan.at, call.ended_at if call.ended_at is not None else emu.now)
        for plan, call in zip(spec.calls, calls, strict=True)
    ]
    result.emulator_errors = dict(Counter(int(error["code"]) for error in emu.errors))
    return result


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


@dataclass
class LoadResult:
    requests: int
    wall_seconds: float
    latency_ms: dict[str, dict[str, float]]  # kind -> count, p50, p95, p99, max, mean
    errors: dict[str, int]  # "kind status" -> count
    emulator_errors: dict[int, int]
    fallbacks: int
    call_statuses: dict[str, int]
    truth: list[dict]
    cut_short: int
    virtual_seconds: float
    peak_concurrent_calls: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds else 0.0


def run_load(
    *,
    base_url: str,
    account_sid: str,
    auth_token: str,
    calls: int,
    agent_identities: list[str],
    clients: int,
    seed: int = 1,
    processes: bool = True,
    max_wall_seconds: float = 600.0,
    arrival_seconds: float | None = None,
) -> LoadResult:
    """Drive `calls` demo calls through the server at base_url from `clients` emulators at once.

    Callers and agents are dealt round-robin to the emulators (an agent belongs to one only, so
    no agent is ever on two calls). `processes=False` runs the emulators in threads instead
    (the smoke test does, against pytest-django's live server)."""
    if not agent_identities:
        raise ValueError("at least one agent is needed")
    clients = max(1, min(clients, len(agent_identities), calls or 1))
    rng = random.Random(seed + 1)
    plans = plan_calls(calls, len(agent_identities), seed, arrival_seconds)
    specs = [
        SliceSpec(
            base_url=base_url,
            account_sid=account_sid,
            auth_token=auth_token,
            calls=plans[n::clients],
            agents=[(identity, rng.uniform(60, 150)) for identity in agent_identities[n::clients]],
            max_wall_seconds=max_wall_seconds,
        )
        for n in range(clients)
    ]
    pool = ProcessPoolExecutor if processes else ThreadPoolExecutor
    started = time.monotonic()
    with pool(max_workers=clients) as executor:
        results = list(executor.map(run_slice, specs))
    wall = time.monotonic() - started

    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    emulator_errors: Counter = Counter()
    statuses: Counter = Counter()
    truth = []
    for result in results:
        for kind, status, seconds in result.records:
            by_kind[kind].append(seconds * 1000)
            if not 200 <= status < 300:
                errors[f"{kind} {status or 'unreachable'}"] += 1
        emulator_errors.update(result.emulator_errors)
        statuses.update(result.statuses)
        truth.extend(result.truth)
    # Callers on the line at once (virtual time, all emulators share the same clock).
    edges = sorted(
        (moment, step)
        for result in results
        for start, end in result.spans
        for moment, step in ((start, 1), (end, -1))
    )
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    latency = {}
    for kind in KIND_ORDER:
        values = sorted(by_kind.get(kind, []))
        if values:
            latency[kind] = {
                "count": len(values),
                "p50": _percentile(values, 0.50),
                "p95": _percentile(values, 0.95),
                "p99": _percentile(values, 0.99),
                "max": values[-1],
                "mean": statistics.fmean(values),
            }
    return LoadResult(
        requests=sum(len(result.records) for result in results),
        wall_seconds=wall,
        latency_ms=latency,
        errors=dict(errors),
        emulator_errors=dict(emulator_errors),
        fallbacks=len(by_kind.get("fallback", [])),
        call_statuses=dict(statuses),
        truth=truth,
        cut_short=sum(result.cut_short for result in results),
        virtual_seconds=max((result.virtual_seconds for result in results), default=0.0),
        peak_concurrent_calls=peak,
    )


def compare_with_database(truth: list[dict]) -> list[str]:
    """Differences between the emulator's queue visits and the stored QueueVisit rows (Django
    must be set up on the benchmark's database). An empty list means they are equal."""
    from queues.models import QueueVisit

    def row(queue, result, wait, talk, agent):
        return (queue, result, wait, talk, agent or "")

    expected = defaultdict(list)
    for visit in truth:
        expected[visit["call_sid"]].append(
            row(
                visit["queue"],
                visit["result"],
                visit["wait_seconds"],
                visit["talk_seconds"],
                visit["agent"],
            )
        )
    stored = defaultdict(list)
    visits = QueueVisit.objects.select_related("queue", "call").order_by("entered_at", "entry")
    for visit in visits:
        stored[visit.call.sid].append(
            row(
                visit.queue.slug,
                visit.result,
                visit.wait_seconds,
                visit.talk_seconds,
                visit.agent_identity,
            )
        )
    differences = []
    for sid in sorted(set(expected) | set(stored)):
        if expected.get(sid) != stored.get(sid):
            differences.append(f"{sid}: emulator {expected.get(sid)} != stored {stored.get(sid)}")
    return differences


def ensure_agents(count: int) -> list[str]:
    """agent1 and agent2 (seed_demo) plus load-agent3… as members of `support`: identities."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from agents.models import Agent, QueueMembership
    from agents.roles import AGENTS
    from queues.models import Queue

    queue = Queue.objects.get(slug=QUEUE)
    group = Group.objects.get(name=AGENTS)
    User = get_user_model()
    identities = []
    for n in range(1, max(count, 1) + 1):
        identity = f"agent{n}" if n <= 2 else f"load-agent{n}"
        user, created = User.objects.get_or_create(username=identity)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(group)
        agent, _ = Agent.objects.get_or_create(user=user, defaults={"identity": identity})
        QueueMembership.objects.get_or_create(agent=agent, queue=queue)
        identities.append(agent.identity)
    return identities


def format_report(result: LoadResult, differences: list[str] | None) -> str:
    lines = [
        f"requests: {result.requests} in {result.wall_seconds:.1f} s = "
        f"{result.requests_per_second:.1f} webhook requests/s",
        f"virtual time simulated: {result.virtual_seconds / 60:.0f} min; "
        f"calls: {sum(result.call_statuses.values())} {result.call_statuses}, "
        f"at most {result.peak_concurrent_calls} at once; "
        f"queue visits: {len(result.truth)} "
        f"{dict(Counter(visit['result'] for visit in result.truth))}",
        "",
        f"{'kind':<12} {'count':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   (ms)",
    ]
    for kind, figures in result.latency_ms.items():
        lines.append(
            f"{kind:<12} {figures['count']:>6} {figures['p50']:>8.1f} {figures['p95']:>8.1f} "
            f"{figures['p99']:>8.1f} {figures['max']:>8.1f}"
        )
    lines += [
        "",
        f"non-2xx / unreachable: {sum(result.errors.values())} {result.errors}",
        f"fallback requests: {result.fallbacks}; emulator errors (Twilio codes): "
        f"{result.emulator_errors}; calls cut short at the time limit: {result.cut_short}",
    ]
    if differences is not None:
        verdict = "EQUAL" if not differences else f"{len(differences)} DIFFERENCES"
        lines.append(f"stored visits vs emulator ground truth: {verdict}")
        lines += [f"  {line}" for line in differences[:20]]
    return "\n".join(lines)


# --- the command line: database, gunicorn, load, report ------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _recreate_database(database_url: str) -> None:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    if not re.fullmatch(r"tsunagu_load\w*", name):
        raise SystemExit(f"refusing to drop {name!r}: the database name must start tsunagu_load")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _wait_until_up(base_url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with opener.open(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz within a minute")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="callers to place (default 300)")
    parser.add_argument("--agents", type=int, default=8, help="agents in support (default 8)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers, 2-4 (default 3)")
    parser.add_argument(
        "--clients", type=int, default=4, help="emulator processes sending at once (default 4)"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-seconds", type=float, default=600, help="wall-clock limit of the load (default 600)"
    )
    parser.add_argument(
        "--arrival-seconds",
        type=float,
        help="virtual seconds over which the callers arrive (default: agents ~80 %% busy)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not 2 <= args.workers <= 4:
        parser.error("--workers must be 2 to 4")
    if not 1 <= args.calls <= 20000 or not 1 <= args.agents <= 500:
        parser.error("--calls 1-20000 and --agents 1-500")

    auth_token = secrets.token_hex(16)
    account_sid = "AC" + secrets.token_hex(16)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": args.database_url,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        # No TWILIO_ACCOUNT_SID: the app makes no REST calls to api.twilio.com.
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": auth_token,
        "SECURE_SSL_REDIRECT": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    print(f"load average before: {os.getloadavg()}", flush=True)
    print(f"preparing {args.database_url.rsplit('/', 1)[1]} …", flush=True)
    _recreate_database(args.database_url)
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    identities = ensure_agents(args.agents)
    connections.close_all()

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning", "--timeout", "60",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        _wait_until_up(base_url, server)
        print(
            f"gunicorn ({args.workers} workers) on {base_url}; {args.calls} calls, "
            f"{len(identities)} agents, {args.clients} emulator processes …",
            flush=True,
        )
        result = run_load(
            base_url=base_url,
            account_sid=account_sid,
            auth_token=auth_token,
            calls=args.calls,
            agent_identities=identities,
            clients=args.clients,
            seed=args.seed,
            max_wall_seconds=args.max_seconds,
            arrival_seconds=args.arrival_seconds,
        )
        load_after = os.getloadavg()
    finally:
        _stop(server)
    differences = compare_with_database(result.truth)
    print(format_report(result, differences))
    print(f"load average after: {load_after}")
    if args.json:
        figures = {
            "requests": result.requests,
            "wall_seconds": result.wall_seconds,
            "requests_per_second": result.requests_per_second,
            "latency_ms": result.latency_ms,
            "errors": result.errors,
            "emulator_errors": result.emulator_errors,
            "fallbacks": result.fallbacks,
            "call_statuses": result.call_statuses,
            "peak_concurrent_calls": result.peak_concurrent_calls,
            "visit_results": dict(Counter(visit["result"] for visit in result.truth)),
            "visits": len(result.truth),
            "differences": differences,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if not differences and not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
