"""Whole calls through the Twilio emulator: the demo queue, an available agent, and an emulator
whose number enqueues straight into `support` while the softphones use the real TwiML App."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.models import Agent, AgentStatus, QueueMembership
from agents.roles import AGENTS
from agents.services import agent_set_status
from tests.factories import emulator

from .queue_urls import NUMBER


@pytest.fixture
def agent1(django_user_model, support):
    """agent1, a member of `support`, available now with a registered softphone (only such an
    agent counts as available)."""
    user = django_user_model.objects.create_user(username="agent1")
    user.groups.add(Group.objects.get(name=AGENTS))
    agent = Agent.objects.create(user=user, identity="agent1", device_seen_at=timezone.now())
    QueueMembership.objects.create(agent=agent, queue=support)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    return agent


@pytest.fixture
def emu(settings):
    """Callers of NUMBER go straight into `support` (tests.e2e.queue_urls); agents dial out
    through the real /twilio/agent/outgoing, as the browser softphone does."""
    settings.TWILIO_CALLER_ID = NUMBER
    return emulator(number=NUMBER, voice_url="/e2e/queue/support/incoming")
