"""The softphone's access token: who gets one, and what it allows."""

import jwt
import pytest
from django.urls import reverse

from agents.models import Agent
from tests.conftest import ACCOUNT_SID

pytestmark = pytest.mark.django_db

API_KEY = "SK" + "1" * 32
API_SECRET = "api-key-secret-for-tests-0123456789abcdef"
APP_SID = "AP" + "2" * 32


@pytest.fixture(autouse=True)
def _softphone_settings(settings):
    settings.TWILIO_API_KEY_SID = API_KEY
    settings.TWILIO_API_KEY_SECRET = API_SECRET
    settings.TWILIO_TWIML_APP_SID = APP_SID


def test_it_gives_an_agent_a_one_hour_voice_token_for_their_identity(client, agent):
    client.force_login(agent.user)

    response = client.get(reverse("agents:token"))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["identity"] == "agt"
    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"])
    assert claims["iss"] == API_KEY
    assert claims["sub"] == ACCOUNT_SID
    assert claims["exp"] - claims["nbf"] == 3600
    assert claims["grants"]["identity"] == "agt"
    assert claims["grants"]["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": APP_SID},
    }


def test_the_token_is_signed_with_the_api_key_secret(client, agent):
    client.force_login(agent.user)

    token = client.get(reverse("agents:token")).json()["token"]

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-0123456789abcdef-0123456789", algorithms=["HS256"])


@pytest.mark.parametrize("persona", ["supervisor", "analyst", "outsider"])
def test_it_refuses_anyone_who_is_not_an_agent(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("agents:token"))

    assert response.status_code == 403
    assert "token" not in response.json()


def test_it_refuses_an_agent_whose_profile_is_inactive(client, agent):
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    client.force_login(agent.user)

    assert client.get(reverse("agents:token")).status_code == 403


def test_it_refuses_a_user_of_the_agents_group_without_an_agent_profile(client, agent_user):
    client.force_login(agent_user)

    assert client.get(reverse("agents:token")).status_code == 403


def test_it_answers_401_without_a_login(client, agent):
    response = client.get(reverse("agents:token"))

    assert response.status_code == 401
    assert "token" not in response.json()


def test_it_says_what_is_missing_when_the_softphone_is_not_configured(client, agent, settings):
    settings.TWILIO_TWIML_APP_SID = ""
    client.force_login(agent.user)

    response = client.get(reverse("agents:token"))

    assert response.status_code == 503
    assert "token" not in response.json()
