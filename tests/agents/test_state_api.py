"""The softphone's polling endpoint and the status selector."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentStatus, QueueMembership
from agents.services import agent_call_ended, agent_call_started
from queues.models import Queue

from .conftest import post_wait

pytestmark = pytest.mark.django_db


def test_it_lists_the_agents_queues_with_live_waiting_counts(
    client, twilio, agent, queue, django_assert_num_queries
):
    other = Queue.objects.create(slug="billing", name="Billing")
    post_wait(twilio, queue, call_sid="CA" + "1" * 32)
    post_wait(twilio, queue, call_sid="CA" + "2" * 32)
    post_wait(twilio, other, call_sid="CA" + "3" * 32)
    client.force_login(agent.user)

    # session, user, roles, agent, waiting stats of every queue, the agent's memberships
    with django_assert_num_queries(6):
        response = client.get(reverse("agents:state"))

    body = response.json()
    assert body["status"] == "offline"
    assert [(q["slug"], q["waiting"]) for q in body["queues"]] == [("support", 2)]
    assert body["queues"][0]["longest_wait_seconds"] >= 0


def test_queues_come_in_priority_order(client, agent, queue):
    second = Queue.objects.create(slug="a-first-by-name", name="A")
    QueueMembership.objects.create(agent=agent, queue=second, priority=2)
    client.force_login(agent.user)

    body = client.get(reverse("agents:state")).json()

    assert [q["slug"] for q in body["queues"]] == ["support", "a-first-by-name"]


def test_an_agent_chooses_available_then_break(client, agent):
    client.force_login(agent.user)

    assert (
        client.post(reverse("agents:set-status"), {"status": "available"}).json()["status"]
        == "available"
    )
    body = client.post(reverse("agents:set-status"), {"status": "break"}).json()

    assert body["status"] == "break"
    agent.refresh_from_db()
    assert agent.status == AgentStatus.BREAK


@pytest.mark.parametrize("status", ["on-call", "wrap-up", "asleep"])
def test_an_agent_cannot_choose_call_driven_statuses(client, agent, status):
    client.force_login(agent.user)

    response = client.post(reverse("agents:set-status"), {"status": status})

    assert response.status_code == 400
    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE


def test_polling_ends_a_wrap_up_that_ran_out(client, agent, queue):
    queue.wrap_up_seconds = 10
    past = timezone.now() - timedelta(minutes=5)
    agent_call_started(agent=agent, agent_call_sid="CA1", visit=None, now=past)
    agent_call_ended(agent=agent, agent_call_sid="CA1", queue=queue, now=past)
    client.force_login(agent.user)

    body = client.get(reverse("agents:state")).json()

    assert body["status"] == "available"
    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE
    assert agent.status_changed_at == past + timedelta(seconds=10)


def test_status_changes_need_post(client, agent):
    client.force_login(agent.user)

    assert client.get(reverse("agents:set-status")).status_code == 405


@pytest.mark.parametrize("persona", ["supervisor", "analyst", "outsider"])
@pytest.mark.parametrize(
    "name,method",
    [
        ("agents:state", "get"),
        ("agents:set-status", "post"),
        ("agents:current-call", "get"),
        ("agents:dial-check", "get"),
        ("agents:note-new", "post"),
        ("agents:customer-new", "post"),
    ],
)
def test_the_softphone_endpoints_refuse_other_personas(client, request, persona, name, method):
    client.force_login(request.getfixturevalue(persona))

    response = getattr(client, method)(reverse(name), {"status": "available"})

    assert response.status_code == 403


@pytest.mark.parametrize("name", ["agents:state", "agents:current-call", "agents:token"])
def test_the_softphone_endpoints_answer_401_after_logout(client, name):
    assert client.get(reverse(name)).status_code == 401
