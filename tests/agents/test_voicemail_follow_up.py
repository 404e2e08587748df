"""Voicemails are followed up: open / mine / handled filters, a supervisor assigns one to an
agent, an agent marks it handled (or opens it again), "call back" dials through the desk."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from agents.models import Agent
from ivr.models import Voicemail

pytestmark = pytest.mark.django_db
URL = reverse("voicemails")


@pytest.fixture
def messages(db):
    return [
        Voicemail.objects.create(
            caller=f"+8190000000{i}",
            recording_url=f"https://api.twilio.com/Recordings/RE{i}",
            duration_seconds=10,
            received_at=datetime(2026, 11, 2, 1, i, tzinfo=UTC),
        )
        for i in range(3)
    ]


def callers(response):
    return [v.caller for v in response.context["page"].object_list]


def test_a_supervisor_assigns_and_an_agent_sees_it_under_mine(client, supervisor, agent, messages):
    client.force_login(supervisor)
    page = client.get(URL).content.decode()
    assert f'<option value="{agent.user.pk}">agt</option>' in page

    response = client.post(
        reverse("voicemail-assign", args=[messages[1].pk]),
        {"assigned_to": str(agent.user.pk), "show": "open"},
    )

    assert response.status_code == 302 and response["Location"] == URL + "?show=open"
    messages[1].refresh_from_db()
    assert messages[1].assigned_to == agent.user
    client.force_login(agent.user)
    assert callers(client.get(URL, {"show": "mine"})) == ["+81900000001"]


def test_an_agent_may_not_assign(client, agent, messages):
    client.force_login(agent.user)

    response = client.post(
        reverse("voicemail-assign", args=[messages[0].pk]), {"assigned_to": str(agent.user.pk)}
    )

    assert response.status_code == 403
    messages[0].refresh_from_db()
    assert messages[0].assigned_to is None


def test_only_an_active_agent_can_be_assigned(client, supervisor, agent, analyst, messages):
    client.force_login(supervisor)

    client.post(
        reverse("voicemail-assign", args=[messages[0].pk]), {"assigned_to": str(analyst.pk)}
    )

    messages[0].refresh_from_db()
    assert messages[0].assigned_to is None


def test_an_agent_marks_a_voicemail_handled_and_it_leaves_the_open_list(client, agent, messages):
    client.force_login(agent.user)

    client.post(reverse("voicemail-handled", args=[messages[2].pk]), {"action": "handled"})

    messages[2].refresh_from_db()
    assert messages[2].handled_by == agent.user and messages[2].handled_at is not None
    assert callers(client.get(URL)) == ["+81900000001", "+81900000000"]  # open by default
    handled = client.get(URL, {"show": "handled"})
    assert callers(handled) == ["+81900000002"]
    assert "handled by agt" in handled.content.decode()
    assert len(callers(client.get(URL, {"show": "all"}))) == 3


def test_a_handled_voicemail_can_be_opened_again(client, agent, messages):
    client.force_login(agent.user)
    url = reverse("voicemail-handled", args=[messages[0].pk])
    client.post(url, {"action": "handled"})

    client.post(url, {"action": "reopen"})

    messages[0].refresh_from_db()
    assert messages[0].handled_at is None and messages[0].handled_by is None


def test_a_disabled_agent_may_not_mark_voicemails(client, agent, messages):
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    client.force_login(agent.user)

    response = client.post(reverse("voicemail-handled", args=[messages[0].pk]))

    assert response.status_code == 403


def test_call_back_opens_the_desk_with_the_callers_number(client, agent, messages):
    client.force_login(agent.user)

    page = client.get(URL).content.decode()

    assert f"{reverse('agents:desk')}?dial=%2B81900000001" in page
