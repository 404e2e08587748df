"""Keeps the stored hours of the queue report true when an old visit changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from queues.models import QueueVisit

from .metrics import HOUR, SETTLED_AFTER, forget_settled_hour


@receiver([post_save, post_delete], sender=QueueVisit, dispatch_uid="reports_visit_changed")
def visit_changed(sender, instance, **kwargs):
    # Live webhooks touch recent visits, whose hours are never stored: no query for them.
    if instance.entered_at < timezone.now() - SETTLED_AFTER + HOUR:
        forget_settled_hour(queue_id=instance.queue_id, entered_at=instance.entered_at)
