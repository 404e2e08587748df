"""The supervisors' live team view: every agent with their status and call (caller, customer,
queue, duration, hold), each queue's waiting callers, as a page and as the JSON it polls; only
supervisors (and superusers) may open it, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Customer
from emulator import Caller
from queues.models import QueueVisit
from routing.control import call_hold
from routing.supervision_selectors import team_view
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock

LIVE = "/supervisor/team/live"
PAGE = "/supervisor/team/"


def _second_caller_waits(emu, number="+819033334444"):
    emu.place_call(to=DEMO_NUMBER, from_=number, caller=Caller(digits=["1"]))
    for _ in range(90):
        run(emu, 1)
        if QueueVisit.objects.filter(call__from_number=number).exists():
            return
    raise AssertionError("the second caller never reached the queue")


def _row(data, identity):
    [row] = [a for a in data["agents"] if a["identity"] == identity]
    return row


def test_the_team_view_shows_the_agent_talking_to_a_known_customer(emu, client, supervisor):
    Customer.objects.create(phone_number="+819011112222", name="Sato Hanako")
    _connected_call(emu, talk_seconds=None)
    run(emu, 5)
    client.force_login(supervisor)

    data = client.get(LIVE).json()

    row = _row(data, "agent1")
    assert row["status"] == "on-call"
    assert row["call"]["phone_number"] == "+819011112222"
    assert row["call"]["customer_name"] == "Sato Hanako"
    assert row["call"]["queue"]["slug"] == "support"
    assert row["call"]["duration_seconds"] is not None
    assert row["call"]["on_hold"] is False
    assert _row(data, "agent2")["call"] is None
    body = client.get(PAGE).content.decode()
    assert "Sato Hanako" in body and "+819011112222" in body
    assert 'data-url="/supervisor/team/live"' in body


def test_the_call_duration_counts_from_the_answer(emu):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    answered = QueueVisit.objects.get(call__sid=leg.sid).answered_at

    data = team_view(now=answered + timedelta(seconds=42))

    assert _row(data, "agent1")["call"]["duration_seconds"] == 42
    assert _row(data, "agent1")["call"]["duration_clock"] == "0:42"


def test_the_team_view_shows_a_held_caller_and_the_queue_waiting(emu, client, supervisor):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    call_hold(agent=agent, now=emu.datetime_at())
    _second_caller_waits(emu)
    client.force_login(supervisor)

    data = client.get(LIVE).json()

    assert _row(data, "agent1")["call"]["on_hold"] is True
    [support] = [q for q in data["queues"] if q["slug"] == "support"]
    assert support["waiting"] == 1
    assert support["longest_wait_seconds"] is not None


@pytest.mark.parametrize("url", [PAGE, LIVE])
def test_analysts_and_agents_are_refused_the_team_view(client, analyst, agent_user, url):
    for user in (analyst, agent_user):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_the_team_view_needs_a_login(client):
    assert client.get(PAGE).status_code == 302


def test_a_superuser_sees_the_team_view(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-root")
    client.force_login(admin)
    assert client.get(PAGE).status_code == 200


def test_supervisors_find_the_team_view_in_the_navigation(client, supervisor):
    client.force_login(supervisor)
    assert 'href="/supervisor/team/"' in client.get("/voicemails/").content.decode()
    assert 'href="/supervisor/team/"' in client.get("/admin/").content.decode()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIVE).status_code == 200
    return len(queries)


def test_the_team_view_costs_the_same_queries_for_more_agents_on_calls(emu, client, supervisor):
    client.force_login(supervisor)
    _connected_call(emu, talk_seconds=None)
    run(emu, 2)
    one = _queries(client)
    emu.add_agent("agent2", answer_after=2, talk_seconds=None)
    test_end_to_end.ready("agent2")
    _second_caller_waits(emu)
    run(emu, 10)
    data = client.get(LIVE).json()
    assert _row(data, "agent2")["call"] is not None
    assert _queries(client) == one
    assert one <= 12
