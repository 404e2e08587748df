"""The softphone page and who may open it."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_agent_gets_the_softphone(client, agent, django_assert_num_queries):
    client.force_login(agent.user)

    # session, user, agent's roles, agent profile, dispositions
    with django_assert_num_queries(6):  # + the queues to transfer to
        response = client.get(reverse("agents:desk"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="softphone"' in html
    assert "vendor/twilio-voice-sdk/twilio.min.js" in html
    assert "agents/softphone.js" in html
    assert 'data-identity="agt"' in html
    assert 'id="softphone-texts"' in html


def test_the_home_page_sends_an_agent_to_the_softphone(client, agent):
    client.force_login(agent.user)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("agents:desk")


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("agents:desk"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["supervisor", "analyst", "outsider", "agent_user"])
def test_anyone_without_an_agent_profile_is_refused(client, request, persona):
    # agent_user is in the Agents group but has no Agent row yet
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("agents:desk")).status_code == 403
