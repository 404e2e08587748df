"""Smoke test of the routing-at-load benchmark (benchmarks/multinode.py): its core — scripted
softphones, Poisson arrivals through the local Twilio, the drain and every invariant check — runs
a handful of push-routed calls against the live server with one in-process worker (one node, no
replica, no PgBouncer), so the script cannot rot unnoticed."""

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from benchmarks.multinode import (
    NUMBER,
    Plan,
    check_invariants,
    drain,
    drive_arrivals,
    format_outcome,
    prepare_agents,
    register_devices,
    wait_until_settled,
)
from emulator.server import LocalTwilio
from routing.worker import _worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def local_twilio(live_server, settings):
    settings.TWILIO_API_KEY_SID = "SK" + "1" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-tests-0123456789abcdef"
    settings.TWILIO_TWIML_APP_SID = "AP" + "2" * 32
    settings.PUBLIC_URL = live_server.url
    settings.TWILIO_REST_CALLS_PER_SECOND = 50
    call_command("seed_demo", stdout=io.StringIO())
    twilio = LocalTwilio(
        app_url=live_server.url,
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        api_key_sid=settings.TWILIO_API_KEY_SID,
        api_key_secret=settings.TWILIO_API_KEY_SECRET,
        twiml_app_sid=settings.TWILIO_TWIML_APP_SID,
        numbers=(NUMBER,),
        calls_per_second=50,
    ).serve("127.0.0.1", 0)
    settings.TWILIO_API_URL = twilio.url
    yield twilio
    twilio.stop()


@pytest.fixture
def worker(local_twilio):
    running = _worker(0.1)

    def run():
        try:
            running.loop()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield running
    running.running = False
    thread.join(timeout=10)


def run_and_check(local_twilio, plan):
    """The benchmark's core on ``plan``: agents registered, callers placed and drained, every
    check run; no failure allowed. → the callers placed and the checks' outcome."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    agents = prepare_agents(plan.agents)
    register_devices(local_twilio.url, agents, plan)

    placed = drive_arrivals(local_twilio.url, plan)
    report = drain(local_twilio.url, seconds=60)
    wait_until_settled(seconds=30)
    # A loaded test machine may be slow to ring; the decision itself is what the test checks
    # with a loose limit (the benchmark's is 1 s).
    outcome = check_invariants(report, since=since, ring_p99_limit=5.0)

    assert placed, "no caller was placed"
    assert outcome.failures == [], format_outcome(outcome)
    return placed, outcome


def test_a_few_push_routed_calls_keep_every_invariant(local_twilio, worker):
    # The agents talk 1 s: less than the app takes to bring the caller in after the accept
    # (the answer, the bridge task, the queue exit, the connect message), so the agent report
    # equals who met whom only if the talk counts from the caller's join.
    plan = Plan(rate=1.0, seconds=4, agents=3, answer_after=0.5, talk_seconds=1, seed=2)

    placed, outcome = run_and_check(local_twilio, plan)

    assert outcome.figures["offers"] >= len(placed) - 1  # a caller may give up before a ring
    assert outcome.figures["overlapping offers (agent / caller)"] == (0, 0)
    assert outcome.figures["callers placed / stored"] == (len(placed), len(placed))
    assert outcome.figures["webhook requests answered 2xx but not stored"] == 0


def test_callers_a_full_queue_refuses_are_rejected_in_the_report_and_the_truth(
    local_twilio, worker
):
    # The local Twilio's queue holds one caller: with one agent, callers who arrive while
    # another waits are refused (queue-full). The app counts them rejected, not offered, and the
    # ground truth must too.
    local_twilio.runner.call(lambda: local_twilio.emulator.add_queue("support", max_size=1))
    plan = Plan(rate=3.0, seconds=3, agents=1, answer_after=0.5, talk_seconds=1, seed=3)

    _placed, outcome = run_and_check(local_twilio, plan)

    refused = outcome.figures["ground truth queue results"].get("queue-full", 0)
    assert refused > 0, format_outcome(outcome)
    assert outcome.figures["queue report (offered/answered/abandoned/rejected)"][3] == refused
