"""seed_demo gives agent1 and agent2 agent profiles in queue support."""

import pytest
from django.core.management import call_command

from agents.models import Agent, QueueMembership

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_the_two_demo_agents_members_of_support():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115  (idempotent)

    agents = Agent.objects.order_by("identity")
    assert [(a.identity, a.user.username) for a in agents] == [
        ("agent1", "agent1"),
        ("agent2", "agent2"),
        ("supervisor", "supervisor"),  # a softphone to listen to calls, in no queue
    ]
    assert set(QueueMembership.objects.values_list("agent__identity", "queue__slug")) == {
        ("agent1", "support"),
        ("agent2", "support"),
    }
