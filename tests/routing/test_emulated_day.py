"""The issue's "done when": an emulated stretch of a day with push routing — an agent who
answers, one who rejects, one who lets a call ring out — and callers who hold, hang up, or ask
to be called back (some answer the callback, some do not), through the local Twilio in process.
The queue and agent reports equal what the emulator says happened (its ground truth: the
callers' queue visits and every call it placed), computed here independently of
reports.metrics. Runs on SQLite, and on PostgreSQL when DATABASE_URL points there.

The app dates what it records by its own clock while the emulator's clock is virtual, so retry
delays (real seconds) do not pass inside the run: each callback gets one attempt here; retries
have their own tests (test_callbacks*.py)."""

import random
from collections import Counter

import pytest
from django.utils import timezone

from agents.models import Agent
from emulator import Caller
from queues.models import Queue
from reports.metrics import local_today
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .helpers import ready_agent
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu

CALLS = 24
SPREAD = 20 * 60  # callers arrive over twenty minutes


@pytest.fixture
def day(emu, django_user_model):
    Queue.objects.filter(slug="support").update(
        callback_after_seconds=20, callback_max_attempts=1, ring_timeout_seconds=10
    )
    support = Queue.objects.get(slug="support")
    ready("agent1")
    ready("agent2")
    ready_agent(django_user_model, "agent3", support)
    emu.add_agent("agent1", answer_after=2, talk_seconds=150)
    emu.add_agent("agent2", answer_after=2, on_ring="reject")
    emu.add_agent("agent3", on_ring="ignore")
    rng = random.Random(14)
    for n in range(CALLS):
        number = f"+81901234{n:04d}"
        wants_callback = n % 4 == 0
        if wants_callback:
            emu.add_callee(
                number,
                Caller(answer="answer" if n % 16 == 4 else "no-answer", talk_seconds=20),
            )
        emu.place_call(
            to=DEMO_NUMBER,
            from_=number,
            at=rng.uniform(0, SPREAD),
            caller=Caller(
                digits=["1", "1", "1"] if wants_callback else ["1", "-", "-"],
                patience=None if wants_callback else rng.choice([3, 30, 90, 200, 400]),
            ),
        )
    run(emu, SPREAD + 40 * 60, step=1.0)
    return emu


def today() -> str:
    return local_today(timezone.now()).isoformat()


def expected_queue_figures(emu):
    truth = emu.ground_truth()
    offered = [row for row in truth if row["result"] != "queue-full"]
    # Push routing: the caller is redirected to the agent who answered (no max wait here).
    answered = [row for row in offered if row["result"] == "redirected"]
    abandoned = [row for row in offered if row["result"] == "hangup"]
    short = [row for row in abandoned if row["wait_seconds"] < 5]
    left = [row for row in offered if row["result"] == "leave"]  # left for a callback
    callbacks = [leg for leg in emu.calls if leg.to.startswith("+81901234")]
    return {
        "offered": len(offered),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "overflowed": len(left),
        "callbacks_requested": len(left),
        "callbacks_connected": sum(leg.status == "completed" for leg in callbacks),
        "callbacks_failed": sum(leg.status != "completed" for leg in callbacks),
        "longest_wait_seconds": max(row["wait_seconds"] for row in offered),
    }


def _conferences(leg) -> set[str]:
    return {entry.text for entry in leg.transcript if entry.kind == "conference-join"}


def expected_agent_figures(emu, identity):
    """Every ring of the agent is an offer; answered: rings whose conference a caller or a
    called-back customer also joined (a callback not reached is an offer, not an answer)."""
    rings = [leg for leg in emu.calls if leg.to == f"client:{identity}"]
    customers = set().union(
        *(_conferences(leg) for leg in emu.calls if not leg.to.startswith("client:"))
    )
    return {
        "offers": len(rings),
        "missed": sum(leg.status == "no-answer" for leg in rings),
        "rejected": sum(leg.status == "busy" for leg in rings),
        "answered": sum(bool(_conferences(leg) & customers) for leg in rings),
    }


def test_the_queue_report_equals_the_ground_truth(client, analyst, day):
    expected = expected_queue_figures(day)
    assert expected["answered"] and expected["callbacks_connected"]
    assert expected["callbacks_failed"] and expected["abandoned"]
    client.force_login(analyst)
    params = {"start": today(), "end": today(), "queue": "support", "interval": "total"}
    [row] = client.get("/api/reports/queues/", params).json()["rows"]
    assert {key: row[key] for key in expected} == expected
    [board] = [r for r in client.get("/api/wallboard/").json()["rows"] if r["queue"] == "support"]
    assert board["callbacks_waiting"] == 0


def test_the_agent_report_equals_the_ground_truth(client, analyst, day):
    client.force_login(analyst)
    rows = client.get("/api/reports/agents/", {"start": today(), "end": today()}).json()["rows"]
    by_agent = {row["agent"]: row for row in rows}
    seen = Counter()
    for identity in ("agent1", "agent2", "agent3"):
        expected = expected_agent_figures(day, identity)
        assert {key: by_agent[identity][key] for key in expected} == expected, identity
        seen.update(expected)
    assert seen["missed"] and seen["rejected"] and seen["answered"]
    assert Agent.objects.get(identity="agent3").status == "missed"
