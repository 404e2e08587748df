"""Routing listens: a caller enqueued, connected or gone (queues); an agent available or
unreachable (agents). Each receiver runs in the transaction of the event and only enqueues a
task or ends offers, so the event's own request stays short."""

from django.dispatch import receiver
from django.utils import timezone

from agents.signals import agent_became_available, agent_became_unreachable
from queues.models import RoutingMode
from queues.signals import caller_connected, caller_enqueued, caller_left

from . import tasks
from .services import offers_withdraw


@receiver(caller_enqueued, dispatch_uid="routing.on_caller_enqueued")
def on_caller_enqueued(sender, visit, **kwargs):
    if visit.queue.routing_mode == RoutingMode.PUSH and not visit.is_test_call:
        tasks.dispatch.enqueue(queue_ids=[visit.queue_id])


@receiver(caller_left, dispatch_uid="routing.on_caller_left")
def on_caller_left(sender, visit, **kwargs):
    """The caller hung up or left while an agent rang: stop the ring, offer withdrawn."""
    # Not a quick "any open offer?" check first: an offer decided a moment ago, not committed
    # yet, would be missed; the routing lock waits for it.
    if visit.answered_at is None and visit.queue.routing_mode == RoutingMode.PUSH:
        offers_withdraw(now=timezone.now(), visit_id=visit.pk)


@receiver(caller_connected, dispatch_uid="routing.on_caller_connected")
def on_caller_connected(sender, visit, **kwargs):
    """An agent took the caller (by hand, or by answering an offer): any other ring for this
    caller stops, and so does a ring of the agent who took them."""
    now = timezone.now()
    offers_withdraw(now=now, visit_id=visit.pk, reroute=False)
    from agents.models import Agent

    agent_id = Agent.objects.filter(identity=visit.agent_identity).values_list("pk", flat=True)
    agent_id = agent_id.first()
    if agent_id is not None:
        offers_withdraw(now=now, agent_id=agent_id)


@receiver(agent_became_available, dispatch_uid="routing.on_agent_available")
def on_agent_available(sender, agent, **kwargs):
    tasks.dispatch.enqueue(agent_id=agent.pk)


@receiver(agent_became_unreachable, dispatch_uid="routing.on_agent_unreachable")
def on_agent_unreachable(sender, agent, **kwargs):
    """Break, offline or softphone gone while ringing: the ring stops, the caller goes on."""
    offers_withdraw(now=timezone.now(), agent_id=agent.pk)
