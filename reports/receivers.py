"""Keeps the stored hours of the queue and agent reports true when an old visit or status
interval changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from agents.models import Agent, AgentStatusInterval
from queues.models import QueueVisit
from routing.models import Hold

from .metrics import HOUR, SETTLED_AFTER, forget_settled_agent_hours, forget_settled_hour
from .models import AgentHourStats


@receiver([post_save, post_delete], sender=QueueVisit, dispatch_uid="reports_visit_changed")
def visit_changed(sender, instance, **kwargs):
    # Live webhooks touch recent visits, whose hours are not stored yet: no query for them (a
    # call longer than an hour is the exception).
    if instance.entered_at < timezone.now() - SETTLED_AFTER + HOUR:
        forget_settled_hour(queue_id=instance.queue_id, entered_at=instance.entered_at)
        forget_settled_agent_hours(start=instance.entered_at, end=instance.entered_at)


@receiver(
    [post_save, post_delete], sender=AgentStatusInterval, dispatch_uid="reports_interval_changed"
)
def interval_changed(sender, instance, **kwargs):
    # Status changes open and close recent intervals: no query for them either.
    if instance.started_at < timezone.now() - SETTLED_AFTER + HOUR:
        forget_settled_agent_hours(start=instance.started_at, end=instance.ended_at)


@receiver(post_save, sender=Hold, dispatch_uid="reports_hold_changed")
def hold_changed(sender, instance, **kwargs):
    # A hold's end adds its seconds to the bridge (handle time) without saving the visit: drop
    # the visit's stored hours when they may be stored already (a call longer than an hour).
    if instance.ended_at is None:
        return
    visit = (
        QueueVisit.objects.filter(bridge__pk=instance.bridge_id)
        .values("queue_id", "entered_at")
        .first()
    )
    if visit is not None and visit["entered_at"] < timezone.now() - SETTLED_AFTER + HOUR:
        forget_settled_hour(queue_id=visit["queue_id"], entered_at=visit["entered_at"])
        forget_settled_agent_hours(start=visit["entered_at"], end=visit["entered_at"])


@receiver(post_delete, sender=Agent, dispatch_uid="reports_agent_deleted")
def agent_deleted(sender, instance, **kwargs):
    # Its intervals are gone with it; so must be its stored time.
    AgentHourStats.objects.filter(agent_identity=instance.identity).delete()
