"""GET /api/reports/agents/ (docs/api.md §4)."""

from datetime import timedelta

import pytest

from agents.models import Agent, AgentStatus, AgentStatusInterval
from queues.models import QueueResult

from .conftest import make_visit, tokyo

URL = "/api/reports/agents/"
pytestmark = pytest.mark.django_db


def test_it_reports_each_agent(client, analyst, support, django_user_model):
    agent = Agent.objects.create(
        user=django_user_model.objects.create_user("agent1"), identity="agent1"
    )
    Agent.objects.create(user=django_user_model.objects.create_user("agent2"), identity="agent2")
    start = tokyo(2026, 11, 2, 9)
    AgentStatusInterval.objects.create(
        agent=agent,
        status=AgentStatus.AVAILABLE,
        started_at=start,
        ended_at=start + timedelta(minutes=30),
    )
    AgentStatusInterval.objects.create(
        agent=agent,
        status=AgentStatus.ON_CALL,
        started_at=start + timedelta(minutes=30),
        ended_at=start + timedelta(minutes=40),
    )
    make_visit(
        support,
        start + timedelta(minutes=29),
        QueueResult.BRIDGED,
        15,
        answered=True,
        agent="agent1",
        talk=585,
        wrap_up=15,
    )
    client.force_login(analyst)
    response = client.get(URL, {"start": "2026-11-02", "end": "2026-11-02"})
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["time_zone"]) == (
        "2026-11-02",
        "2026-11-02",
        "Asia/Tokyo",
    )
    assert body["rows"] == [
        {
            "agent": "agent1",
            "answered": 1,
            "talk_seconds": 585,
            "aht_seconds": 600.0,
            "available_seconds": 1800,
            "occupancy": 0.25,
        },
        {
            "agent": "agent2",
            "answered": 0,
            "talk_seconds": 0,
            "aht_seconds": None,
            "available_seconds": 0,
            "occupancy": None,
        },
    ]


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_explains_a_reversed_range(client, supervisor):
    client.force_login(supervisor)
    response = client.get(URL, {"start": "2026-11-03", "end": "2026-11-02"})
    assert response.status_code == 400
    assert "after the end date" in response.json()["detail"]
