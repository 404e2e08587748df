"""A day of emulated calls through the demo flow: the report API says what really happened.

The expected figures are computed here from the emulator's ground truth with docs/api.md §7's
definitions, independently of reports.metrics.
"""

import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.services import agent_set_status
from ivr.models import Flow
from reports.metrics import local_today
from tests.factories import emulator

pytestmark = pytest.mark.django_db


def today() -> str:
    # The app dates what it records by its own clock, not the emulator's virtual one.
    return local_today(timezone.now()).isoformat()


NUMBER = "+815012345678"
CALLS = 80
HOURS = 7
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
# Keys per prompt: to an operator, product information (no queue), silence (to the queue after
# the timeout), an invalid key then an operator.
KEY_CHOICES = [["1"], ["1"], ["1"], ["2"], ["-"], ["9", "1"]]


def expected_figures(truth):
    offered = [row for row in truth if row["result"] != "queue-full"]
    answered = [row for row in offered if row["result"] == "bridged"]
    abandoned = [row for row in offered if row["result"] == "hangup"]
    short = [row for row in abandoned if row["wait_seconds"] < 5]
    base = len(offered) - len(short)
    return {
        "offered": len(offered),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "overflowed": sum(row["result"] in ("leave", "redirected") for row in offered),
        "rejected": len(truth) - len(offered),
        "abandon_rate": round((len(abandoned) - len(short)) / base, 4),
        "asa_seconds": round(sum(r["wait_seconds"] for r in answered) / len(answered), 4),
        "service_level": round(sum(r["wait_seconds"] <= 20 for r in answered) / base, 4),
        "aht_seconds": round(sum(r["talk_seconds"] for r in answered) / len(answered), 4),
        "longest_wait_seconds": max(r["wait_seconds"] for r in offered),
    }


@pytest.fixture
def emulated_day(settings, demo):
    from emulator import Caller

    for agent in Agent.objects.filter(identity__in=["agent1", "agent2"]):
        agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    settings.TWILIO_CALLER_ID = NUMBER
    emu = emulator(number=NUMBER, start=START)
    rng = random.Random(7)
    keys = Counter()
    for n in range(CALLS):
        digits = rng.choice(KEY_CHOICES)
        keys[tuple(digits)] += 1
        # Bursts keep both agents busy now and then, so some callers wait and some give up.
        at = rng.choice([rng.uniform(0, HOURS * 3600), 3600 + rng.uniform(0, 120)])
        emu.place_call(
            to=NUMBER,
            from_=f"+8190{n:08d}",
            at=at,
            caller=Caller(
                digits=digits,
                patience=rng.choice([2, 4, 20, 45, 120, None, None]),
                talk_seconds=None,
            ),
        )
    emu.add_agent("agent1", talk_seconds=70, takes_queues=("support",))
    emu.add_agent("agent2", talk_seconds=150, takes_queues=("support",))
    emu.run()
    return emu, keys


def test_the_queue_report_equals_the_ground_truth(client, analyst, emulated_day):
    emu, _keys = emulated_day
    truth = emu.ground_truth()
    expected = expected_figures(truth)
    assert expected["answered"] and expected["abandoned"] and expected["short_abandoned"]
    client.force_login(analyst)
    params = {"start": today(), "end": today(), "queue": "support"}
    [row] = client.get("/api/reports/queues/", {**params, "interval": "total"}).json()["rows"]
    assert {key: row[key] for key in expected} == expected
    # The hours of the day add up to the same counts.
    hours = client.get("/api/reports/queues/", {**params, "interval": "hour"}).json()["rows"]
    assert len(hours) == 24
    for key in ("offered", "answered", "abandoned", "short_abandoned", "overflowed"):
        assert sum(hour[key] for hour in hours) == expected[key], key


def test_the_agent_report_equals_the_ground_truth(client, analyst, emulated_day):
    emu, _keys = emulated_day
    bridged = [row for row in emu.ground_truth() if row["result"] == "bridged"]
    client.force_login(analyst)
    rows = client.get("/api/reports/agents/", {"start": today(), "end": today()}).json()["rows"]
    by_agent = {row["agent"]: row for row in rows}
    for identity in ("agent1", "agent2"):
        mine = [row for row in bridged if row["agent"] == identity]
        assert by_agent[identity]["answered"] == len(mine)
        assert by_agent[identity]["talk_seconds"] == sum(row["talk_seconds"] for row in mine)


def test_the_ivr_funnel_counts_every_caller_and_key(client, analyst, emulated_day):
    _emu, keys = emulated_day
    client.force_login(analyst)
    flow = Flow.objects.get()
    response = client.get("/reports/ivr/", {"start": today(), "end": today(), "flow": flow.pk})
    funnel = response.context["funnel"]
    steps = {step["step_name"]: step for step in funnel["steps"]}
    assert steps["main-menu"]["reached"] == CALLS
    assert steps["main-menu"]["no_input"] == keys[("-",)]
    assert steps["main-menu"]["invalid"] == keys[("9", "1")]
    assert steps["product-info"]["reached"] == keys[("2",)]
    pressed = {(k["digits"], k["outcome"]): k["times"] for k in funnel["keys"]}
    assert pressed[("1", "valid")] == keys[("1",)] + keys[("9", "1")]
    assert pressed[("9", "invalid")] == keys[("9", "1")]
    assert pressed[("2", "valid")] == keys[("2",)]


def test_the_call_detail_shows_an_emulated_call_end_to_end(client, analyst, emulated_day):
    emu, _keys = emulated_day
    answered = next(row for row in emu.ground_truth() if row["result"] == "bridged")
    client.force_login(analyst)
    response = client.get(f"/reports/calls/{answered['call_sid']}/")
    assert response.status_code == 200
    kinds = [entry["kind"] for entry in response.context["events"]]
    assert {"webhook", "status", "ivr", "enqueued", "answered", "left"} <= set(kinds)
    assert kinds.index("ivr") < kinds.index("enqueued") < kinds.index("answered")
    html = response.content.decode()
    assert answered["agent"] in html and answered["agent_call_sid"][:10] in html
