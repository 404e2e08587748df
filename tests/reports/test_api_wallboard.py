"""GET /api/wallboard/ (docs/api.md §4): each queue now, and today so far."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus, QueueMembership
from queues.models import QueueResult
from telephony.models import CallStatus
from tests.factories import make_visit

URL = "/api/wallboard/"
pytestmark = pytest.mark.django_db


def _agent(django_user_model, identity, status, queue):
    agent = Agent.objects.create(
        user=django_user_model.objects.create_user(identity),
        identity=identity,
        status=status,
        device_seen_at=timezone.now(),  # a registered softphone
    )
    QueueMembership.objects.create(agent=agent, queue=queue)
    return agent


def test_it_shows_callers_waiting_agents_and_today(
    client, supervisor, support, sales, django_user_model
):
    now = timezone.now()
    make_visit(support, now - timedelta(seconds=95), QueueResult.WAITING)
    make_visit(support, now - timedelta(seconds=10), QueueResult.WAITING)
    make_visit(
        support,
        now - timedelta(seconds=1),
        QueueResult.BRIDGED,
        8,
        answered=True,
        agent="a1",
        talk=None,
    )
    # An orphan "waiting" visit from long ago is not somebody waiting now.
    make_visit(support, now - timedelta(hours=5), QueueResult.WAITING)
    # Nor is one whose call has ended without the Enqueue action arriving.
    make_visit(
        support, now - timedelta(seconds=300), QueueResult.WAITING, call_status=CallStatus.COMPLETED
    )
    _agent(django_user_model, "a1", AgentStatus.ON_CALL, support)
    _agent(django_user_model, "a2", AgentStatus.AVAILABLE, support)
    _agent(django_user_model, "a3", AgentStatus.WRAP_UP, support)
    _agent(django_user_model, "a4", AgentStatus.AVAILABLE, sales)
    client.force_login(supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    rows = {row["queue"]: row for row in response.json()["rows"]}
    support_row = rows["support"]
    assert support_row["waiting"] == 2
    assert 95 <= support_row["longest_wait_seconds"] <= 97
    assert (
        support_row["agents_available"],
        support_row["agents_on_call"],
        support_row["agents_wrap_up"],
    ) == (1, 1, 1)
    assert support_row["answered"] == 1
    assert support_row["service_level"] is not None
    assert rows["sales"]["waiting"] == 0
    assert rows["sales"]["longest_wait_seconds"] is None
    assert rows["sales"]["agents_available"] == 1
    assert rows["sales"]["offered"] == 0
    assert rows["sales"]["service_level"] is None


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_runs_a_fixed_number_of_queries(
    client, analyst, support, sales, django_assert_num_queries
):
    client.force_login(analyst)
    client.get(URL)  # today's settled hours are added up and stored by the first request
    # session, user, groups; queues; waiting visits; queue ids and agents by status
    # (agents.selectors.agent_status_counts); agents ringing (routing); today's stored hours
    # and today's visits since; callbacks
    with django_assert_num_queries(11):
        client.get(URL)
