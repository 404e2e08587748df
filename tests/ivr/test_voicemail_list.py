from datetime import UTC, datetime

import pytest
from django.urls import reverse

from agents.models import Agent
from ivr.models import Voicemail

pytestmark = pytest.mark.django_db

URL = reverse("voicemails")


@pytest.fixture
def voicemails(db):
    for i in range(3):
        Voicemail.objects.create(
            caller=f"+8190000000{i}",
            recording_url=f"https://api.twilio.com/Recordings/RE{i}",
            duration_seconds=10 + i,
            received_at=datetime(2026, 11, 2, 1, i, tzinfo=UTC),
        )


@pytest.mark.parametrize(("persona", "queries"), [("agent_user", 8), ("supervisor", 8)])
def test_agents_and_supervisors_see_the_voicemails_newest_first(
    client, request, persona, queries, voicemails, django_assert_num_queries
):
    user = request.getfixturevalue(persona)
    if persona == "agent_user":
        Agent.objects.create(user=user, identity="agt")
    client.force_login(user)

    # session, user, user permissions, group permissions, the user's roles, the active agent
    # (may they call back?), (for a supervisor: the agents to assign to), the count, the page
    # of voicemails with their flows and people
    with django_assert_num_queries(queries):
        response = client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("+81900000002") < body.index("+81900000000")
    # played through the app, never from Twilio's address
    assert f"/voicemails/{Voicemail.objects.get(caller='+81900000001').pk}/audio" in body
    assert "https://api.twilio.com/Recordings/RE1" not in body


def test_an_analyst_may_not_see_voicemails(client, analyst, voicemails):
    client.force_login(analyst)

    assert client.get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, voicemails):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
