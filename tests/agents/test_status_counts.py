"""agents.selectors.agent_status_counts: the wallboard's agents per queue and status."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus, QueueMembership
from agents.selectors import agent_status_counts
from queues.models import Queue

pytestmark = pytest.mark.django_db


def make_agent(django_user_model, name, status, queues, **extra):
    user = django_user_model.objects.create_user(username=name)
    # A registered softphone: only such an agent counts as available.
    extra.setdefault("device_seen_at", timezone.now())
    agent = Agent.objects.create(user=user, identity=name, status=status, **extra)
    for queue in queues:
        QueueMembership.objects.create(agent=agent, queue=queue)
    return agent


def test_it_counts_members_of_each_queue_by_status(
    django_user_model, queue, django_assert_num_queries
):
    billing = Queue.objects.create(slug="billing", name="Billing")
    empty = Queue.objects.create(slug="empty", name="Empty")
    now = timezone.now()
    make_agent(django_user_model, "a", AgentStatus.AVAILABLE, [queue, billing])
    make_agent(django_user_model, "b", AgentStatus.ON_CALL, [queue])
    make_agent(
        django_user_model,
        "c",
        AgentStatus.WRAP_UP,
        [queue],
        wrap_up_until=now + timedelta(minutes=1),
    )
    make_agent(
        django_user_model,
        "d",
        AgentStatus.WRAP_UP,
        [billing],
        wrap_up_until=now - timedelta(minutes=1),
    )  # ran out: available
    make_agent(django_user_model, "e", AgentStatus.BREAK, [queue])
    make_agent(django_user_model, "f", AgentStatus.AVAILABLE, [queue], is_active=False)

    # queue ids, memberships grouped by queue and effective status
    with django_assert_num_queries(2):
        counts = agent_status_counts()

    assert counts[queue.id] == {"available": 1, "on-call": 1, "wrap-up": 1}
    assert counts[billing.id] == {"available": 2, "on-call": 0, "wrap-up": 0}
    assert counts[empty.id] == {"available": 0, "on-call": 0, "wrap-up": 0}
