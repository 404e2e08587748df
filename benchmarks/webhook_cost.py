"""Cost per webhook, in process: SQL round trips and latency of each hot Twilio webhook.

    .venv/bin/python benchmarks/webhook_cost.py [--calls 200] [--quick]
        [--database-url postgres://postgres@127.0.0.1:5432/tsunagu_webhookcost_bench]

(Re)creates the PostgreSQL database of ``--database-url``, migrates it and runs `seed_demo`,
then plays ``--calls`` calls through Django's test client with requests signed as Twilio signs
them (production settings, the full middleware): the incoming call to the demo number, the menu
key, the queue wait loop, the agent's softphone request, the connect URL, the agent's dial
action, the caller's Enqueue action and both legs' status callbacks. For each kind of webhook
it prints the SQL round trips of one request (its statements, with the BEGIN and COMMIT of a
transaction, which Django logs too) and the p50 / p99 latency in milliseconds. Counting and
timing are separate passes: the timing pass records no queries. ``--quick``: 30 calls.

``--cpu N`` measures instead what N requests of each of the hottest kinds (incoming, gather, the
wait loop, the static fallback) cost in CPU time, the app's process and its PostgreSQL backend
together (``/proc``: user and system time, so the kernel's side of the socket between them is in
it too), and in wall-clock time one request at a time; each request is handed to Django's WSGI
handler as gunicorn hands it (an urlencoded body, no test client). CPU time, unlike latency,
hardly depends on what else the machine runs. ``--kinds`` picks some of them;
``--reuse-database`` skips the (re)creation, so that ``valgrind --tool=callgrind`` can count the
instructions of a run of N requests against a run of 0 (their difference over N is one request's
Python instructions). See docs/benchmarks.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tsunagu_webhookcost_bench"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
NUMBER = "+815012345678"
KINDS = [
    "incoming",
    "gather",
    "wait (first)",
    "wait loop",
    "outgoing",
    "connect",
    "dial action",
    "exit",
    "status",
]


def _recreate(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _setup(database_url: str, *, create: bool = True) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        DEBUG="False",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        LOG_LEVEL="ERROR",
        CONN_MAX_AGE="600",
    )
    import django

    django.setup()
    from django.core.management import call_command

    if create:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)


class Driver:
    """Signed posts through the test client; each request's round trips or latency."""

    def __init__(self):
        from django.db import connection
        from django.test import Client
        from twilio.request_validator import RequestValidator

        self.client = Client()
        self.validator = RequestValidator(AUTH_TOKEN)
        self.connection = connection
        self.counting = False
        self.trips = defaultdict(list)
        self.millis = defaultdict(list)

    def post(self, kind: str, path: str, fields: dict):
        signature = self.validator.compute_signature(f"http://testserver{path}", fields)
        if self.counting:
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(self.connection) as queries:
                response = self.client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature)
            statements = len(queries.captured_queries)
            if os.environ.get("WEBHOOK_COST_SQL"):
                print(kind, *(q["sql"][:150] for q in queries.captured_queries), sep="\n  ")
            # Django logs a transaction's BEGIN and COMMIT with the statements: all round trips.
            self.trips[kind].append(statements)
        else:
            started = time.perf_counter()
            response = self.client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature)
            self.millis[kind].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            raise SystemExit(f"{kind} {path}: HTTP {response.status_code}")
        return response


def _fields(sid: str, **extra) -> dict:
    return {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": sid,
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
        **extra,
    }


def play_call(
    driver: Driver, index: int, *, flow_id: int, menu_id: int, queue_step_id: int, loops: int
) -> None:
    caller = f"CA{index:032d}"
    agent = f"CA{index + 10**9:032d}"
    caller_fields = {"From": "+819012345678", "To": NUMBER}
    driver.post(
        "incoming", "/twilio/voice/incoming", _fields(caller, CallStatus="ringing", **caller_fields)
    )
    driver.post(
        "gather",
        f"/twilio/ivr/flows/{flow_id}/steps/{menu_id}/gather",
        _fields(caller, CallStatus="in-progress", Digits="1", **caller_fields),
    )
    for loop in range(loops + 1):
        queue_time = loop * 15
        driver.post(
            "wait (first)" if loop == 0 else "wait loop",
            "/twilio/queues/support/wait",
            _fields(
                caller,
                CallStatus="in-progress",
                QueueSid="QU" + "0" * 32,
                QueueTime=str(queue_time),
                QueuePosition="1",
                AvgQueueTime="0",
                CurrentQueueSize="1",
                MaxQueueSize="100",
                **caller_fields,
            ),
        )
    agent_fields = {"From": "client:agent1", "To": "queue:support", "Caller": "client:agent1"}
    driver.post(
        "outgoing",
        "/twilio/agent/outgoing",
        _fields(agent, CallStatus="ringing", ApplicationSid="AP" + "1" * 32, **agent_fields),
    )
    wait = loops * 15 + 5
    driver.post(
        "connect",
        "/twilio/queues/support/connect",
        _fields(
            caller,
            CallStatus="in-progress",
            QueueSid="QU" + "0" * 32,
            QueueTime=str(wait),
            DequeingCallSid=agent,
            **caller_fields,
        ),
    )
    driver.post(
        "dial action",
        "/twilio/queues/support/dial-action",
        _fields(
            agent,
            CallStatus="in-progress",
            DialCallStatus="completed",
            DialCallSid=caller,
            DialCallDuration="60",
            QueueSid="QU" + "0" * 32,
            **agent_fields,
        ),
    )
    driver.post(
        "exit",
        f"/twilio/ivr/flows/{flow_id}/steps/{queue_step_id}/queue-exit",
        _fields(
            caller,
            CallStatus="in-progress",
            QueueResult="bridged",
            QueueSid="QU" + "0" * 32,
            QueueTime=str(wait),
            **caller_fields,
        ),
    )
    for sid, sequence, extra in ((caller, 3, caller_fields), (agent, 2, agent_fields)):
        driver.post(
            "status",
            "/twilio/voice/status",
            _fields(
                sid,
                CallStatus="completed",
                CallDuration="90",
                SequenceNumber=str(sequence),
                **extra,
            ),
        )


CPU_KINDS = ["incoming", "gather", "wait loop", "fallback"]
CPU_CALLERS = 50  # callers in the queue for the wait loop, each asking in turn
CPU_PERIOD = 38  # seconds of QueueTime between a caller's wait requests (the demo queue's loop)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WsgiDriver:
    """Signed posts handed to Django's WSGI handler as gunicorn does: an urlencoded body."""

    def __init__(self):
        from io import BytesIO
        from urllib.parse import urlencode

        from django.core.handlers.wsgi import WSGIHandler
        from twilio.request_validator import RequestValidator

        self.handler = WSGIHandler()
        self.validator = RequestValidator(AUTH_TOKEN)
        self.urlencode, self.bytes_io = urlencode, BytesIO

    def post(self, path: str, fields: dict) -> bytes:
        body = self.urlencode(fields).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "testserver",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_TWILIO_SIGNATURE": self.validator.compute_signature(
                f"http://testserver{path}", fields
            ),
            "wsgi.input": self.bytes_io(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        statuses = []
        chunks = self.handler(environ, lambda status, headers, *_: statuses.append(status))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{path}: HTTP {statuses[0]}")
        return content


def _caller_fields(sid: str, **extra) -> dict:
    return _fields(sid, From="+819012345678", To=NUMBER, **extra)


def _wait_fields(sid: str, queue_time: int) -> dict:
    return _caller_fields(
        sid,
        CallStatus="in-progress",
        QueueSid="QU" + "0" * 32,
        QueueTime=str(queue_time),
        QueuePosition="1",
        AvgQueueTime="0",
        CurrentQueueSize=str(CPU_CALLERS),
        MaxQueueSize="5000",
    )


def _callgrind_dump(label: str) -> int | None:
    """Under ``valgrind --tool=callgrind``: dump the instructions counted since the last dump
    (callgrind_control), and return them (the new dump file's total)."""
    pid = os.getpid()
    done = subprocess.run(
        ["callgrind_control", "--dump=" + label, str(pid)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"--callgrind: not running under callgrind? {done.stderr.strip()}")
    dumps = sorted(
        Path.cwd().glob(f"callgrind.out.{pid}.*"), key=lambda f: int(f.suffix.lstrip("."))
    )
    for line in dumps[-1].read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    return None


def cpu_cost(
    *, count: int, kinds: list[str], flow_id: int, menu_id: int, callgrind: bool = False
) -> None:
    """CPU time of ``count`` requests of each kind, this process and its PostgreSQL backend;
    with ``callgrind``, this process's instructions too."""
    from django.db import connection

    driver = WsgiDriver()
    gather_path = f"/twilio/ivr/flows/{flow_id}/steps/{menu_id}/gather"
    wait_path = "/twilio/queues/support/wait"
    serial = iter(range(10**6))
    run_id = time.time_ns() // 1000 % 10**10  # fresh call SIDs on a reused database

    def new_sid(tag: int, n: int) -> str:
        return f"CA{run_id:010d}{tag}{n:021d}"

    def incoming(sid: str) -> None:
        driver.post("/twilio/voice/incoming", _caller_fields(sid, CallStatus="ringing"))

    def gather(sid: str) -> None:
        fields = _caller_fields(sid, CallStatus="in-progress", Digits="1")
        driver.post(gather_path, fields)

    def fallback(sid: str) -> None:
        fields = _caller_fields(
            sid, CallStatus="ringing", ErrorCode="11200", ErrorUrl="http://testserver/x"
        )
        driver.post("/twilio/voice/fallback", fields)

    callers = [new_sid(1, n) for n in range(CPU_CALLERS)]
    passes = dict.fromkeys(callers, 0)

    def wait_loop(sid: str) -> None:
        caller = callers[next(serial) % CPU_CALLERS]
        passes[caller] += 1
        driver.post(wait_path, _wait_fields(caller, passes[caller] * CPU_PERIOD))

    run = {"incoming": incoming, "gather": gather, "wait loop": wait_loop, "fallback": fallback}
    for caller in callers:  # in the queue: incoming, menu key, the first wait request
        incoming(caller)
        gather(caller)
        driver.post(wait_path, _wait_fields(caller, 0))
    for kind in kinds:  # warm up: every kind's code loaded, the configuration cached
        for _ in range(5):
            sid = new_sid(2, next(serial))
            if kind == "gather":
                incoming(sid)
            run[kind](sid)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    overhead = 0
    if callgrind:  # what a dump itself costs (callgrind_control runs as a child process)
        _callgrind_dump("start")
        overhead = min(_callgrind_dump("empty") for _ in range(3))
    header = (
        f"{'webhook':<12} {'requests':>8} {'app ms':>8} {'db ms':>8} {'CPU ms/request':>15}"
        f" {'wall ms/request':>16}"
    )
    print(header + (f" {'app instructions/request':>25}" if callgrind else ""))
    for kind in kinds:
        sids = [new_sid(3, next(serial)) for _ in range(count)]
        if kind == "gather":
            for sid in sids:
                incoming(sid)
        if callgrind:
            _callgrind_dump("before " + kind)
        app0, db0, wall0 = time.process_time(), _cpu_seconds(backend), time.perf_counter()
        for sid in sids:
            run[kind](sid)
        wall = time.perf_counter() - wall0
        app, db = time.process_time() - app0, _cpu_seconds(backend) - db0
        instructions = _callgrind_dump(kind) if callgrind else None
        per = 1000 / count if count else 0.0
        line = (
            f"{kind:<12} {count:>8} {app * per:>8.3f} {db * per:>8.3f} {(app + db) * per:>15.3f}"
            f" {wall * per:>16.3f}"
        )
        if instructions is not None and count:
            line += f" {(instructions - overhead) / count:>25,.0f}"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--loops", type=int, default=5, help="wait-loop requests per call")
    parser.add_argument("--quick", action="store_true", help="30 calls")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--cpu", type=int, metavar="N", help="CPU time of N requests per kind")
    parser.add_argument(
        "--kinds", default=",".join(CPU_KINDS), help=f"--cpu: some of {','.join(CPU_KINDS)}"
    )
    parser.add_argument("--reuse-database", action="store_true", help="no (re)creation")
    parser.add_argument(
        "--callgrind", action="store_true", help="--cpu under callgrind: instructions per request"
    )
    args = parser.parse_args()
    calls = 30 if args.quick else args.calls

    if not args.reuse_database:
        _recreate(args.database_url)
    _setup(args.database_url, create=not args.reuse_database)
    from agents.models import Agent
    from ivr.models import PhoneNumber, Step

    flow_id = PhoneNumber.objects.get(number=NUMBER).flow_id
    steps = Step.objects.filter(flow_id=flow_id).order_by("pk")
    menu_id = steps.filter(kind="menu").first().pk
    queue_step_id = steps.filter(kind="queue", queue__slug="support").first().pk
    if args.cpu is not None:
        kinds = [kind.strip() for kind in args.kinds.split(",")]
        unknown = set(kinds) - set(CPU_KINDS)
        if unknown:
            parser.error(f"--kinds: unknown {', '.join(sorted(unknown))}")
        cpu_cost(
            count=args.cpu,
            kinds=kinds,
            flow_id=flow_id,
            menu_id=menu_id,
            callgrind=args.callgrind,
        )
        return

    driver = Driver()
    Agent.objects.filter(identity="agent1").update(status="available")

    def run(first: int, count: int) -> None:
        for index in range(first, first + count):
            play_call(
                driver,
                index,
                flow_id=flow_id,
                menu_id=menu_id,
                queue_step_id=queue_step_id,
                loops=args.loops,
            )

    run(1, 3)  # warm up: every process-level cache filled, connections open
    driver.counting = True
    run(100, 3)
    driver.counting = False
    run(1000, calls)

    print(f"{'webhook':<14} {'round trips':>11} {'p50 ms':>8} {'p99 ms':>8} {'n':>6}")
    for kind in KINDS:
        trips = driver.trips[kind]
        millis = sorted(driver.millis[kind])
        if not millis:
            continue
        p99 = millis[min(len(millis) - 1, int(len(millis) * 0.99))]
        print(
            f"{kind:<14} {statistics.median(trips):>11g} {statistics.median(millis):>8.1f}"
            f" {p99:>8.1f} {len(millis):>6}"
        )


if __name__ == "__main__":
    main()
