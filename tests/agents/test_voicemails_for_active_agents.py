"""/voicemails/ is for supervisors and active agents: being in the Agents group is not enough."""

import pytest
from django.urls import reverse

from agents.models import Agent

pytestmark = pytest.mark.django_db


def test_a_disabled_agent_still_in_the_agents_group_cannot_read_voicemails(client, agent_user):
    agent = Agent.objects.create(user=agent_user, identity="agt")
    client.force_login(agent_user)
    assert client.get(reverse("voicemails")).status_code == 200

    agent.is_active = False
    agent.save(update_fields=["is_active"])

    assert client.get(reverse("voicemails")).status_code == 403


def test_a_user_in_the_agents_group_who_is_no_agent_cannot_read_voicemails(client, agent_user):
    client.force_login(agent_user)

    assert client.get(reverse("voicemails")).status_code == 403
