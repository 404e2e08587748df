"""Smoke test of the load benchmark (benchmarks/load_calls.py): its core runs a handful of demo
calls over real HTTP against the live server, so the script cannot rot unnoticed. Kept small
and bounded (a 10 s wall-clock limit inside, asserted under 15 s)."""

import io
import time

import pytest
from django.core.management import call_command
from django.db import connection

from benchmarks.load_calls import (
    _percentile,
    compare_with_database,
    ensure_agents,
    format_report,
    run_load,
    webhook_kind,
)
from queues.models import QueueVisit
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings):
    # As in the benchmark: no account SID, so the app makes no REST calls to Twilio.
    settings.TWILIO_ACCOUNT_SID = ""
    call_command("seed_demo", stdout=io.StringIO())
    return ensure_agents(3)


def test_a_few_concurrent_demo_calls_run_over_http_and_match_the_ground_truth(live_server, demo):
    started = time.monotonic()
    result = run_load(
        base_url=live_server.url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        calls=8,
        agent_identities=demo,
        # The live server shares the test's in-memory SQLite connection between its threads,
        # which cannot take two writes at once: one emulator there, two on PostgreSQL.
        clients=1 if connection.vendor == "sqlite" else 2,
        seed=3,
        processes=False,  # threads: the live server runs in this process
        max_wall_seconds=10,
        arrival_seconds=60,  # all within a minute: callers wait in the queue for the agents
    )
    assert time.monotonic() - started < 15

    assert result.errors == {}
    assert result.emulator_errors == {}
    assert result.fallbacks == 0
    assert result.cut_short == 0
    assert result.call_statuses == {"completed": 8}
    assert {"incoming", "gather", "queue wait", "exit", "connect", "outgoing", "status"} <= set(
        result.latency_ms
    )
    assert result.requests == sum(figures["count"] for figures in result.latency_ms.values())
    assert result.requests_per_second > 0
    assert result.peak_concurrent_calls > 1
    # Some callers were queued and taken by the agents; the database stored exactly those visits.
    assert any(visit["result"] == "bridged" for visit in result.truth)
    assert QueueVisit.objects.count() == len(result.truth)
    assert compare_with_database(result.truth) == []
    assert "EQUAL" in format_report(result, [])


def test_it_tells_a_difference_between_the_database_and_the_ground_truth(live_server, demo):
    result = run_load(
        base_url=live_server.url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        calls=3,
        agent_identities=demo[:1],
        clients=1,
        seed=5,
        processes=False,
        max_wall_seconds=10,
    )
    assert result.truth
    visit = QueueVisit.objects.order_by("pk").first()
    visit.wait_seconds = (visit.wait_seconds or 0) + 1
    visit.save(update_fields=["wait_seconds"])

    differences = compare_with_database(result.truth)

    assert len(differences) == 1
    assert visit.call.sid in differences[0]


def test_it_needs_an_agent():
    with pytest.raises(ValueError, match="agent"):
        run_load(
            base_url="http://127.0.0.1:9",
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            calls=1,
            agent_identities=[],
            clients=1,
        )


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/twilio/voice/incoming", "incoming"),
        ("/twilio/ivr/flows/1/steps/2/gather", "gather"),
        ("/twilio/ivr/flows/1/steps/2/no-input", "gather"),
        ("/twilio/queues/support/wait", "queue wait"),
        ("/twilio/queues/support/exit", "exit"),
        ("/twilio/ivr/flows/1/steps/3/queue-exit", "exit"),
        ("/twilio/queues/support/connect", "connect"),
        ("/twilio/queues/support/dial-action", "dial action"),
        ("/agent/twilio/dial-action", "dial action"),
        ("/twilio/voice/status", "status"),
        ("/twilio/voice/fallback", "fallback"),
        ("/twilio/agent/outgoing", "outgoing"),
        ("/healthz", "other"),
    ],
)
def test_it_sorts_requests_by_webhook_kind(path, kind):
    assert webhook_kind(path) == kind


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (_percentile(values, 0.5), _percentile(values, 0.95), _percentile(values, 0.99)) == (
        50.0,
        95.0,
        99.0,
    )
    assert _percentile([7.0], 0.99) == 7.0
