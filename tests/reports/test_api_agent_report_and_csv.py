"""/api/reports/agents/ and the CSV exports of the report pages, against docs/api.md §4."""

import csv
import io
from datetime import timedelta

import pytest

from agents.models import Agent, AgentStatus, AgentStatusInterval
from agents.services import agent_set_status
from queues.models import Queue
from tests.factories import Visit, make_agent, tokyo

pytestmark = pytest.mark.django_db
# Offers of push routing: none in these days, which were worked by taking callers by hand.
# Nor holds or transfers (call control).
NO_OFFERS = {
    "offers": 0,
    "missed": 0,
    "rejected": 0,
    "ring_seconds_avg": None,
    "hold_seconds": 0,
    "transfers_out": 0,
}
AGENT_KEYS = {
    "agent",
    "answered",
    "talk_seconds",
    "aht_seconds",
    "available_seconds",
    "occupancy",
    *NO_OFFERS,
}
DAY = {"start": "2026-11-02", "end": "2026-11-02"}
IDLE_AGENT2 = {
    "agent": "agent2",
    "answered": 0,
    "talk_seconds": 0,
    "aht_seconds": None,
    "available_seconds": 0,
    "occupancy": None,
    **NO_OFFERS,
}


@pytest.fixture
def worked_day(django_user_model, support, sales):
    agent = make_agent(django_user_model, "agent1", support)
    make_agent(django_user_model, "agent2", support)
    for status, at in (
        (AgentStatus.AVAILABLE, tokyo(2026, 11, 2, 9, 0)),
        (AgentStatus.ON_CALL, tokyo(2026, 11, 2, 10, 0)),
        (AgentStatus.AVAILABLE, tokyo(2026, 11, 2, 10, 5)),
        (AgentStatus.OFFLINE, tokyo(2026, 11, 2, 11, 0)),
    ):
        agent_set_status(agent=agent, status=status, now=at)
    Visit(support, tokyo(2026, 11, 2, 10, 0)).answered(10, 100)
    Visit(support, tokyo(2026, 11, 2, 23, 59, 59)).answered(20, 200)
    Visit(support, tokyo(2026, 11, 3, 0, 0, 0)).answered(20, 999)  # the next day
    Visit(sales, tokyo(2026, 11, 2, 12, 0)).abandoned(3)
    return agent


def test_the_agent_report_follows_the_contract(client, analyst, worked_day):
    client.force_login(analyst)
    response = client.get("/api/reports/agents/", DAY)
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"]) == ("2026-11-02", "2026-11-02")
    rows = {row["agent"]: row for row in body["rows"]}
    assert all(set(row) == AGENT_KEYS for row in rows.values())
    assert rows["agent1"] == {
        "agent": "agent1",
        "answered": 2,
        "talk_seconds": 300,
        "aht_seconds": 150.0,
        "available_seconds": 3600 + 55 * 60,
        "occupancy": 0.0417,  # 5 min on call / 2 h
        **NO_OFFERS,
    }
    assert rows["agent2"] == IDLE_AGENT2


def test_the_agent_report_adds_the_wrap_up_to_the_handle_time(
    client, analyst, support, django_user_model
):
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
    Visit(support, start + timedelta(minutes=29)).answered(15, 585, wrap_up=15)
    client.force_login(analyst)
    response = client.get("/api/reports/agents/", DAY)
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
            **NO_OFFERS,
        },
        IDLE_AGENT2,
    ]


def test_the_agent_report_refuses_a_bad_date(client, analyst, db):
    client.force_login(analyst)
    response = client.get("/api/reports/agents/", {"start": "2026-02-30"})
    assert response.status_code == 400
    assert response.json()["detail"]


def test_the_agent_report_explains_a_reversed_range(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/api/reports/agents/", {"start": "2026-11-03", "end": "2026-11-02"})
    assert response.status_code == 400
    assert "after the end date" in response.json()["detail"]


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def as_csv(value):
    return "" if value is None else str(value)


@pytest.mark.parametrize("interval", ["hour", "day", "week", "month", "total"])
def test_the_queue_csv_says_what_the_api_says(client, analyst, worked_day, interval):
    client.force_login(analyst)
    params = {"start": "2026-11-01", "end": "2026-11-03", "interval": interval}
    api = client.get("/api/reports/queues/", params).json()["rows"]
    exported = read_csv(client.get("/reports/", {**params, "export": "csv"}))
    assert len(exported) == len(api)
    names = dict(Queue.objects.values_list("slug", "name"))
    for line, row in zip(exported, api, strict=True):
        # The CSV adds the queue's name for people beside the API's slug.
        assert line.pop("queue_name") == names[row["queue"]]
        assert {key: as_csv(value) for key, value in row.items()} == line
    queue_only = read_csv(client.get("/reports/", {**params, "queue": "sales", "export": "csv"}))
    assert {line["queue"] for line in queue_only} == {"sales"}


def test_the_agent_csv_says_what_the_api_says(client, analyst, worked_day):
    client.force_login(analyst)
    api = client.get("/api/reports/agents/", DAY).json()["rows"]
    exported = read_csv(client.get("/reports/agents/", {**DAY, "export": "csv"}))
    # The CSV's columns (the agent page's table) say what the API says for them.
    columns = set(exported[0])
    assert exported == [
        {key: as_csv(value) for key, value in row.items() if key in columns} for row in api
    ]


@pytest.mark.parametrize("url", ["/reports/", "/reports/agents/"])
def test_the_csv_exports_are_for_report_readers_only(client, agent_user, support, url):
    client.force_login(agent_user)
    assert client.get(url, {"export": "csv"}).status_code == 403
