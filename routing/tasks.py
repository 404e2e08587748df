"""Background tasks of routing (run by ``manage.py worker``). Thin: each calls a service.

Enqueued inside the transaction of the event that causes them (the task is a row of that
transaction: a rolled-back webhook enqueues nothing, a committed one cannot lose it).
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from telephony.services import webhook_events_purge

from . import services

# How often the sweep runs (scheduled by the worker, once over all workers).
SWEEP_EVERY = timedelta(seconds=5)
# How often a worker beats, and how often tasks of silent workers are looked for.
HEARTBEAT_EVERY = timedelta(seconds=5)
RECLAIM_EVERY = timedelta(seconds=10)
# Tasks someone waits for — on the line (an agent's ring, a caller taken to the agent who
# answered, a leg hung up) or for a decision (a caller waiting for an agent, an agent ready for a
# caller: dispatch) — are claimed before the periodic jobs when the workers are behind, and
# among themselves in the order they were enqueued (django-tasks-db claims the highest priority
# first, then the oldest).
LIVE = 10


@task(priority=LIVE)
def dispatch(*, agent_id: int | None = None, queue_ids: list[int] | None = None) -> int:
    return len(services.routing_dispatch(agent_id=agent_id, queue_ids=queue_ids))


@task(priority=LIVE)
def ring_offer(*, offer_id: int) -> None:
    services.offer_ring(offer_id=offer_id)


@task(priority=LIVE)
def cancel_ring(*, agent_call_sid: str) -> None:
    services.ring_cancel(agent_call_sid=agent_call_sid)


@task(priority=LIVE)
def withdraw_offers(*, visit_id: int | None = None, agent_id: int | None = None) -> int:
    return len(services.offers_withdraw(now=timezone.now(), visit_id=visit_id, agent_id=agent_id))


@task(priority=LIVE)
def bridge_caller(*, bridge_id: int) -> None:
    services.bridge_caller_join(bridge_id=bridge_id)


@task(priority=LIVE)
def end_bridge(*, bridge_id: int) -> list[str]:
    return services.bridge_hang_up(bridge_id=bridge_id)


@task(priority=LIVE)
def release_agent(*, bridge_id: int, call_sid: str) -> None:
    from .control import bridge_release_agent

    bridge_release_agent(bridge_id=bridge_id, call_sid=call_sid)


@task(priority=LIVE)
def dial_callback(*, callback_id: int) -> None:
    from .callbacks import callback_dial
    from .models import Callback

    callback = Callback.objects.select_related("visit__call").get(pk=callback_id)
    callback_dial(callback_id=callback_id, base_url=services.public_base_url(callback.visit.call))


@task(priority=LIVE)
def tell_agent_not_reached(*, agent_call_sid: str) -> None:
    from django.urls import reverse

    from .callbacks import tell_agent

    base = services.public_base_url(None)
    tell_agent(agent_call_sid=agent_call_sid, url=base + reverse("routing:callback-not-reached"))


@task(priority=LIVE)
def start_recording(*, bridge_id: int | None = None, callback_id: int | None = None) -> str | None:
    """Record a bridge's caller, or a connected callback's customer."""
    from .recordings import recording_start

    recording = recording_start(bridge_id=bridge_id, callback_id=callback_id, now=timezone.now())
    return recording.sid if recording else None


@task()
def routing_sweep() -> dict:
    return services.routing_sweep()


@task()
def reclaim_tasks() -> dict:
    """Tasks left RUNNING by a worker whose heartbeat stopped, back to READY (routing/leases.py)."""
    from .leases import tasks_reclaim

    return tasks_reclaim(now=timezone.now(), lease=timedelta(seconds=settings.TASK_LEASE_SECONDS))


@task()
def purge_webhook_events() -> int:
    days = settings.WEBHOOK_EVENT_RETENTION_DAYS
    if days <= 0:
        return 0
    return webhook_events_purge(before=timezone.now() - timedelta(days=days))


@task()
def purge_recordings() -> int:
    """Recordings older than RECORDING_RETENTION_DAYS, at Twilio and here (0 keeps them)."""
    from .recordings import recordings_purge

    days = settings.RECORDING_RETENTION_DAYS
    if days <= 0:
        return 0
    now = timezone.now()
    return recordings_purge(before=now - timedelta(days=days), now=now)


# Finished tasks are kept a while for inspection (admin → Tasks), then deleted.
KEEP_SUCCEEDED = timedelta(days=1)
KEEP_FAILED = timedelta(days=14)


@task()
def prune_task_results() -> int:
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    deleted, _ = DBTaskResult.objects.filter(
        Q(status="SUCCESSFUL", finished_at__lt=now - KEEP_SUCCEEDED)
        | Q(status="FAILED", finished_at__lt=now - KEEP_FAILED)
    ).delete()
    return deleted


@task(priority=LIVE)
def settle_bridge(*, bridge_id: int) -> None:
    from .control import bridge_settle

    bridge_settle(bridge_id=bridge_id, now=timezone.now())
