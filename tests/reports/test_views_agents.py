"""The agent report page and its CSV."""

import csv
import io

import pytest
from django.urls import reverse

from agents.models import Agent
from queues.models import QueueResult
from tests.factories import make_visit, tokyo

pytestmark = pytest.mark.django_db
URL = reverse("reports:agents")
PARAMS = {"start": "2026-11-02", "end": "2026-11-02"}


@pytest.fixture
def handled(support, django_user_model):
    Agent.objects.create(user=django_user_model.objects.create_user("agent1"), identity="agent1")
    make_visit(
        support,
        tokyo(2026, 11, 2, 10),
        QueueResult.BRIDGED,
        5,
        answered=True,
        agent="agent1",
        talk=3725,
    )


def test_it_lists_each_agent(client, analyst, handled):
    client.force_login(analyst)
    response = client.get(URL, PARAMS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "agent1" in html and "1:02:05" in html  # talk time as h:mm:ss


def test_the_csv_holds_the_api_figures(client, analyst, handled):
    client.force_login(analyst)
    response = client.get(URL, {**PARAMS, "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    api = client.get("/api/reports/agents/", PARAMS).json()["rows"]
    assert [row["agent"] for row in rows] == [row["agent"] for row in api] == ["agent1"]
    assert rows[0]["talk_seconds"] == "3725" and rows[0]["occupancy"] == ""


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_runs_a_fixed_number_of_queries(client, analyst, handled, django_assert_num_queries):
    client.force_login(analyst)
    # The day is settled: the first request adds up its hours (visits by hour, intervals two
    # queries an hour, in a savepoint: delete, insert) and stores them for the next ones.
    with django_assert_num_queries(64):
        client.get(URL, PARAMS)
    # session, user, groups; hours added up, stored sums per agent; offers per agent; agents
    with django_assert_num_queries(10):  # + holds and transfers, + callbacks
        client.get(URL, PARAMS)
