""" "Try this flow" on the virtual clock: a call that never ends is stopped and the transcript
says so; "as if" moments reach the business-hours step with each try's own request."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from ivr.tryout import HORIZON_SECONDS, flow_try
from queues.models import Queue, QueueVisit

from .conftest import import_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def endless_queue_flow(db):
    Queue.objects.create(slug="slow", name="Slow")  # no max wait, nobody answers
    return import_flow([{"name": "wait-here", "kind": "queue", "queue": "slow"}])


@pytest.fixture
def hours_flow(db):
    return import_flow(
        [
            {
                "name": "office-hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "open",
                "closed_step": "closed",
            },
            {"name": "open", "kind": "say", "text": "Open."},
            {"name": "closed", "kind": "say", "text": "Closed."},
        ],
        name="Hours flow",
        schedules=[
            {
                "name": "Office",
                "time_zone": "Asia/Tokyo",
                "ranges": [{"weekday": 0, "opens": "09:00", "closes": "18:00"}],
                "holidays": [{"date": "2026-11-23", "name": "Labour Thanksgiving Day"}],
            }
        ],
    )


def test_a_call_still_waiting_at_the_horizon_is_stopped_and_said_so(endless_queue_flow):
    result = flow_try(flow=endless_queue_flow, keys=[], scheme="http", host="testserver")

    last = result.lines[-1]
    assert result.stopped
    assert last.kind == "stopped" and last.text == "slow"
    assert last.at == HORIZON_SECONDS
    assert "hangup" not in [line.kind for line in result.lines]
    assert not QueueVisit.objects.exists()


def test_the_stopped_try_page_says_the_try_stopped_the_call(client, supervisor, endless_queue_flow):
    client.force_login(supervisor)

    page = client.get(reverse("admin:ivr_flow_try", args=[endless_queue_flow.pk])).content.decode()

    assert "The try stopped the call after 15 minutes" in page
    assert "still waiting in queue slow" in page


@pytest.mark.parametrize(
    ("moment", "state", "heard"),
    [
        (datetime(2026, 11, 30, 1, 0, tzinfo=UTC), "open", "Open."),  # Monday 10:00 in Tokyo
        (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "closed", "Closed."),  # Monday 19:00
        (datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "holiday", "Closed."),  # a holiday Monday
    ],
)
def test_each_try_decides_business_hours_at_its_own_moment(hours_flow, moment, state, heard):
    result = flow_try(flow=hours_flow, keys=[], scheme="http", host="testserver", at=moment)

    hours = [line for line in result.lines if line.kind == "hours"]
    assert [line.attrs["state"] for line in hours] == [state]
    assert hours[0].attrs["local"].hour == (moment.hour + 9) % 24
    says = [line.text for line in result.lines if line.kind == "say"]
    assert says == [heard]
    # The decision comes before what it leads to.
    assert result.lines.index(hours[0]) < [line.kind for line in result.lines].index("say")


def test_an_unreadable_as_if_moment_places_the_call_now(client, supervisor, hours_flow):
    client.force_login(supervisor)

    response = client.get(reverse("admin:ivr_flow_try", args=[hours_flow.pk]), {"at": "soon"})

    assert "Not a date and time" in response.content.decode()
    placed = response.context["result"].at
    assert abs((placed - datetime.now(UTC)).total_seconds()) < 120
