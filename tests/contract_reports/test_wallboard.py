"""/api/wallboard/ follows emulated calls as they happen (CONTRACT.md)."""

import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.models import Agent, AgentStatus, QueueMembership
from agents.roles import AGENTS
from agents.services import agent_set_status
from queues.demo import seed
from queues.models import Queue
from tests.e2e.queue_urls import NUMBER

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]
URL = "/api/wallboard/"
ROW_KEYS = {
    "queue",
    "waiting",
    "longest_wait_seconds",
    "agents_available",
    "agents_on_call",
    "agents_wrap_up",
    "offered",
    "answered",
    "abandoned",
    "service_level",
}


class _Quiet:
    stdout = io.StringIO()


@pytest.fixture
def support(db):
    seed(_Quiet())
    return Queue.objects.get(slug="support")


@pytest.fixture
def agent1(django_user_model, support):
    user = django_user_model.objects.create_user(username="agent1")
    user.groups.add(Group.objects.get(name=AGENTS))
    # A registered softphone: only such an agent counts as available.
    agent = Agent.objects.create(user=user, identity="agent1", device_seen_at=timezone.now())
    QueueMembership.objects.create(agent=agent, queue=support)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    return agent


@pytest.fixture
def emu(settings):
    from telephony.emulator import DjangoTransport, Emulator

    settings.TWILIO_CALLER_ID = NUMBER
    emu = Emulator(
        transport=DjangoTransport(),
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        base_url="http://testserver",
        start=datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
    )
    emu.add_number(
        NUMBER,
        voice_url="/e2e/queue/support/incoming",
        status_callback="/twilio/voice/status",
        fallback_url="/twilio/voice/fallback",
    )
    emu.configure_client_app(
        voice_url="/twilio/agent/outgoing", status_callback="/twilio/voice/status"
    )
    return emu


def board(client):
    response = client.get(URL)
    assert response.status_code == 200, response.content
    [row] = [row for row in response.json()["rows"] if row["queue"] == "support"]
    assert set(row) >= ROW_KEYS
    return row


def figures(row, *names):
    return tuple(row[name] for name in names)


LIVE = ("waiting", "agents_available", "agents_on_call", "agents_wrap_up")
TODAY = ("offered", "answered", "abandoned", "service_level")


def test_the_wallboard_follows_calls_live(client, supervisor, emu, agent1):
    from telephony.emulator import Caller

    client.force_login(supervisor)
    row = board(client)
    assert figures(row, *LIVE, *TODAY) == (0, 1, 0, 0, 0, 0, 0, None)
    assert row["longest_wait_seconds"] in (None, 0)

    emu.place_call(to=NUMBER, from_="+819011110001", caller=Caller(), at=0)
    emu.agent_dial("agent1", to="queue:support", at=10, talk_seconds=60)
    emu.place_call(to=NUMBER, from_="+819011110002", caller=Caller(patience=30), at=25)

    emu.run(until=8)  # the first caller waits, the agent is free
    row = board(client)
    assert figures(row, *LIVE, *TODAY) == (1, 1, 0, 0, 1, 0, 0, 0.0)
    assert isinstance(row["longest_wait_seconds"], int) and row["longest_wait_seconds"] >= 0

    emu.run(until=40)  # the agent took the first caller; the second one waits
    row = board(client)
    assert figures(row, *LIVE, *TODAY) == (1, 0, 1, 0, 2, 1, 0, 0.5)

    emu.run()  # the second caller gave up after 30 s; the first call ended
    row = board(client)
    assert figures(row, *LIVE, *TODAY) == (0, 1, 0, 0, 2, 1, 1, 0.5)
    assert row["longest_wait_seconds"] is None


def test_the_wallboard_answers_its_shape(client, analyst, support):
    client.force_login(analyst)
    body = client.get(URL).json()
    assert {"rows"} <= set(body)
    assert [row["queue"] for row in body["rows"]] == ["support"]


@pytest.mark.parametrize("persona, status", [("supervisor", 200), ("agent_user", 403)])
def test_the_wallboard_page_is_for_report_readers(client, request, support, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/reports/wallboard/").status_code == status
