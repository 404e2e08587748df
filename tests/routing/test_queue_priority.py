"""Queue priority: an agent who works several push queues is offered the callers of the
higher-priority queue first, even when a caller of another queue has waited longer; within a
queue the callers' own order (caller priority, then original entry) stands."""

import pytest
from django.utils import timezone

from agents.models import AgentStatus, QueueMembership
from agents.services import agent_choose_status
from queues.models import Queue
from routing.models import Offer
from tests.factories import new_sid

from .helpers import caller_waits, ready_agent, work

pytestmark = pytest.mark.django_db


def only_open_offer(agent):
    [offer] = Offer.objects.filter(agent=agent, outcome="")
    return offer


def test_an_agent_becoming_available_takes_the_higher_priority_queue_first(
    twilio, rest, support, django_user_model
):
    urgent = Queue.objects.create(slug="urgent", name="Urgent", priority=5)
    agent = ready_agent(django_user_model, "agent1")
    QueueMembership.objects.create(agent=agent, queue=support, priority=1)
    QueueMembership.objects.create(agent=agent, queue=urgent, priority=1)
    agent_choose_status(agent=agent, status=AgentStatus.BREAK, now=timezone.now())
    long_waiter, urgent_caller = new_sid(), new_sid()
    caller_waits(twilio, support, long_waiter, queue_time=300)
    caller_waits(twilio, urgent, urgent_caller, queue_time=1)

    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    work()

    assert only_open_offer(agent).visit.call.sid == urgent_caller


def test_equal_queue_priorities_leave_the_longest_waiter_first(
    twilio, rest, support, django_user_model
):
    other = Queue.objects.create(slug="other", name="Other")
    agent = ready_agent(django_user_model, "agent1")
    QueueMembership.objects.create(agent=agent, queue=support, priority=1)
    QueueMembership.objects.create(agent=agent, queue=other, priority=1)
    agent_choose_status(agent=agent, status=AgentStatus.BREAK, now=timezone.now())
    long_waiter, newer = new_sid(), new_sid()
    caller_waits(twilio, support, long_waiter, queue_time=300)
    caller_waits(twilio, other, newer, queue_time=1)

    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    work()

    assert only_open_offer(agent).visit.call.sid == long_waiter


def test_a_waiting_line_serves_the_higher_priority_queue_when_an_agent_is_free(
    twilio, rest, support, django_user_model
):
    urgent = Queue.objects.create(slug="urgent", name="Urgent", priority=3)
    long_waiter, urgent_caller = new_sid(), new_sid()
    caller_waits(twilio, support, long_waiter, queue_time=120)
    caller_waits(twilio, urgent, urgent_caller, queue_time=2)
    work()

    agent = ready_agent(django_user_model, "agent1", support, urgent)
    work()

    assert only_open_offer(agent).visit.call.sid == urgent_caller
