"""POST /agent/device: the softphone says whether its Twilio.Device is registered, and only a
registered agent counts as available."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.selectors import agent_status_counts

pytestmark = pytest.mark.django_db

URL = "/agent/device"


@pytest.fixture
def available(agent):
    Agent.objects.filter(pk=agent.pk).update(status=AgentStatus.AVAILABLE)
    agent.refresh_from_db()
    return agent


def available_in(queue):
    return agent_status_counts()[queue.id][AgentStatus.AVAILABLE]


def test_an_available_agent_counts_only_while_the_softphone_is_registered(client, available, queue):
    client.force_login(available.user)
    assert available_in(queue) == 0  # "available", but no softphone has registered

    response = client.post(URL, {"state": "registered"})

    assert response.status_code == 200
    assert response.json() == {"device": "registered", "counted_available": True}
    assert available_in(queue) == 1

    response = client.post(URL, {"state": "unregistered"})

    assert response.json() == {"device": "unregistered", "counted_available": False}
    assert available_in(queue) == 0
    assert Agent.objects.get(pk=available.pk).status == AgentStatus.AVAILABLE  # unchanged


def test_the_wallboard_counts_registered_agents_only(client, available, queue, analyst):
    client.force_login(available.user)
    client.post(URL, {"state": "registered"})
    client.force_login(analyst)
    assert client.get("/api/wallboard/").json()["rows"][0]["agents_available"] == 1

    client.force_login(available.user)
    client.post(URL, {"state": "unregistered"})
    client.force_login(analyst)

    assert client.get("/api/wallboard/").json()["rows"][0]["agents_available"] == 0


def test_a_softphone_not_heard_from_stops_counting_and_the_desk_poll_keeps_it(
    client, available, queue
):
    client.force_login(available.user)
    client.post(URL, {"state": "registered"})
    Agent.objects.filter(pk=available.pk).update(
        device_seen_at=timezone.now() - timedelta(minutes=1)
    )
    client.get(reverse("agents:state"))  # the open desk polls: still registered
    assert available_in(queue) == 1

    Agent.objects.filter(pk=available.pk).update(
        device_seen_at=timezone.now() - timedelta(minutes=3)
    )  # the browser went away without a word

    assert available_in(queue) == 0


def test_an_unknown_state_is_refused(client, available):
    client.force_login(available.user)

    response = client.post(URL, {"state": "ready"})

    assert response.status_code == 400
    assert "registered" in response.json()["error"]


def test_it_needs_the_csrf_token_and_a_post(available):
    client = Client(enforce_csrf_checks=True)
    client.force_login(available.user)

    assert client.post(URL, {"state": "registered"}).status_code == 403
    assert client.get(URL).status_code == 405
    assert Agent.objects.get(pk=available.pk).device_seen_at is None


@pytest.mark.parametrize(("persona", "status"), [("analyst", 403), (None, 401)])
def test_only_agents_report_a_device(client, request, persona, status):
    if persona:
        client.force_login(request.getfixturevalue(persona))

    response = client.post(URL, {"state": "registered"})

    assert response.status_code == status
    assert "error" in response.json()
