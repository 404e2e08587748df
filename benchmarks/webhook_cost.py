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
docs/benchmarks.md.
"""

import argparse
import os
import statistics
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


def _setup(database_url: str) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--loops", type=int, default=5, help="wait-loop requests per call")
    parser.add_argument("--quick", action="store_true", help="30 calls")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    calls = 30 if args.quick else args.calls

    _recreate(args.database_url)
    _setup(args.database_url)
    from agents.models import Agent
    from ivr.models import PhoneNumber, Step

    flow_id = PhoneNumber.objects.get(number=NUMBER).flow_id
    steps = Step.objects.filter(flow_id=flow_id).order_by("pk")
    menu_id = steps.filter(kind="menu").first().pk
    queue_step_id = steps.filter(kind="queue", queue__slug="support").first().pk

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
