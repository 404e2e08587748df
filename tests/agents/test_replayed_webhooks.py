"""A request about a call that already ended (late or replayed) leaves presence alone."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.models import Agent, AgentStatus, AgentStatusInterval
from agents.roles import AGENTS
from agents.services import agent_set_status

from .conftest import AGENT_LEG, post_outgoing, post_status

pytestmark = pytest.mark.django_db
NUMBER = "+81312345678"


@pytest.fixture
def available(agent, settings):
    settings.TWILIO_CALLER_ID = "+815012345678"
    return agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())


def intervals(agent):
    return AgentStatusInterval.objects.filter(agent=agent).count()


@pytest.mark.parametrize("to", [NUMBER, "client:other"])
def test_replaying_a_finished_softphone_call_leaves_the_agent_available(
    twilio, available, django_user_model, to
):
    other = django_user_model.objects.create_user(username="other")
    other.groups.add(Group.objects.get(name=AGENTS))
    Agent.objects.create(user=other, identity="other")
    post_outgoing(twilio, to=to)
    available.refresh_from_db()
    assert available.status == AgentStatus.ON_CALL
    post_status(twilio, call_sid=AGENT_LEG, status="completed", to=to)
    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE
    before = intervals(available)

    response = post_outgoing(twilio, to=to)

    assert response.status_code == 200
    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE
    assert intervals(available) == before


def test_a_replayed_outgoing_for_a_live_call_still_counts(twilio, available):
    post_outgoing(twilio, to=NUMBER)
    post_outgoing(twilio, to=NUMBER)

    available.refresh_from_db()
    assert available.status == AgentStatus.ON_CALL
