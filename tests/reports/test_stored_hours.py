"""The stored hours (reports.QueueHourStats) never show an outdated figure: a visit of a stored
hour changed later by the real webhooks or presence services is counted anew."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentStatus
from agents.services import agent_choose_status, agent_set_status
from reports.metrics import local_today
from reports.models import QueueHourStats
from tests.conftest import call_fields
from tests.factories import QUEUE_SID, Visit, make_agent

pytestmark = pytest.mark.django_db
URL = "/api/reports/queues/"


@pytest.fixture
def old():
    """An instant two days ago, well inside the settled (stored) hours."""
    return (timezone.now() - timedelta(days=2)).replace(minute=10, second=0, microsecond=0)


def total(client, at, **params):
    day = local_today(at).isoformat()
    response = client.get(
        URL, {"start": day, "end": day, "interval": "total", "queue": "support", **params}
    )
    assert response.status_code == 200, response.content
    [row] = response.json()["rows"]
    return row


def test_a_late_dial_action_adds_its_talk(client, twilio, analyst, support, old):
    visit = Visit(support, old).connect(10)
    client.force_login(analyst)
    before = total(client, old)
    assert (before["answered"], before["aht_seconds"]) == (1, None)
    assert QueueHourStats.objects.filter(queue=support, answered=1).exists()
    response = twilio.post(
        reverse("queues:dial-action", kwargs={"slug": support.slug}),
        call_fields(
            visit.agent_leg.sid,
            From="client:agent1",
            To="queue:support",
            CallStatus="in-progress",
            DialCallStatus="completed",
            DialCallSid=visit.sid,
            DialCallDuration="200",
            QueueSid=QUEUE_SID,
        ),
    )
    assert response.status_code == 200
    assert total(client, old)["aht_seconds"] == 200.0


def test_a_late_enqueue_action_changes_the_outcome(client, twilio, analyst, support, old):
    visit = Visit(support, old)
    client.force_login(analyst)
    assert (total(client, old)["offered"], total(client, old)["abandoned"]) == (1, 0)
    response = twilio.post(
        reverse("queues:exit", kwargs={"slug": support.slug}),
        call_fields(
            visit.sid,
            CallStatus="in-progress",
            QueueResult="hangup",
            QueueTime="45",
            QueueSid=QUEUE_SID,
        ),
    )
    assert response.status_code == 200
    row = total(client, old)
    assert (row["abandoned"], row["longest_wait_seconds"]) == (1, 45)


def test_a_wrap_up_ended_after_the_hour_was_stored_counts(
    client, analyst, django_user_model, support, old
):
    support.wrap_up_seconds = 30
    support.save(update_fields=["wrap_up_seconds"])
    agent = make_agent(django_user_model, "agent1", support)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=old - timedelta(hours=1))
    visit = Visit(support, old).answered(10, 100)
    agent.refresh_from_db()
    assert agent.status == AgentStatus.WRAP_UP  # the agent left the softphone in wrap-up
    client.force_login(analyst)
    assert total(client, old)["aht_seconds"] == 100.0  # wrap-up not over yet
    # The agent comes back and presses Ready: the automatic wrap-up ended after 30 s.
    agent_choose_status(
        agent=agent, status=AgentStatus.AVAILABLE, now=agent.wrap_up_until + timedelta(hours=2)
    )
    assert visit.refresh().wrap_up_seconds == 30
    assert total(client, old)["aht_seconds"] == 130.0
