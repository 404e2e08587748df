"""What push routing adds to the reports: offers, missed, rejected and the mean ring time per
agent; agents ringing now on the wallboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import metrics
from reports.forms import DateRange
from routing.models import Offer, OfferOutcome
from tests.factories import new_sid

from .helpers import caller_waits, ready_agent, ring_ends, work

pytestmark = pytest.mark.django_db


def test_agent_figures_count_each_ring_by_its_outcome(
    twilio, rest, support, client, analyst, django_user_model
):
    now = timezone.now()
    first = ready_agent(django_user_model, "first", support, now=now - timedelta(minutes=5))
    ready_agent(django_user_model, "second", support, now=now)
    caller_waits(twilio, support, new_sid())
    work()
    ring_ends(twilio, Offer.objects.get(agent=first), "busy")  # first rejects
    work()
    ring_ends(twilio, Offer.objects.get(outcome=OfferOutcome.OPEN), "no-answer")  # second misses
    work()
    Offer.objects.filter(agent=first).update(started_at=now, ended_at=now + timedelta(seconds=4))
    Offer.objects.exclude(agent=first).update(started_at=now, ended_at=now + timedelta(seconds=15))

    client.force_login(analyst)
    today = timezone.localdate().isoformat()
    rows = client.get("/api/reports/agents/", {"start": today, "end": today}).json()["rows"]
    rows = {row["agent"]: row for row in rows}

    assert {k: rows["first"][k] for k in ("offers", "missed", "rejected")} == {
        "offers": 1,
        "missed": 0,
        "rejected": 1,
    }
    assert rows["first"]["ring_seconds_avg"] == 4.0
    assert (rows["second"]["offers"], rows["second"]["missed"]) == (1, 1)
    assert rows["second"]["ring_seconds_avg"] == 15.0


def test_the_wallboard_counts_agents_ringing_now(
    twilio, rest, support, client, analyst, django_user_model
):
    ready_agent(django_user_model, "agent1", support)
    caller_waits(twilio, support, new_sid())
    work()

    client.force_login(analyst)
    [row] = client.get("/api/wallboard/").json()["rows"]
    assert row["agents_ringing"] == 1

    today = DateRange(timezone.localdate(), timezone.localdate())
    assert metrics.agent_offer_figures(date_range=today)["agent1"]["offers"] == 1
