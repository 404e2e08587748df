"""Task leases: a worker's heartbeat, and the tasks of a worker that stopped beating handed
back to the queue.

django-tasks-db gives a claimed task no lease: a worker killed while running one (SIGKILL, a
lost machine) would leave it RUNNING for ever. Each worker keeps a heartbeat, one
``routing.Clock`` row named ``worker:<id>`` set to the moment of its last beat; the periodic
``reclaim_tasks`` job puts a RUNNING task whose worker has not beaten for TASK_LEASE_SECONDS back
to READY, and another worker runs it again. Every task is written to have its effect once when
run twice or after a partial run (docs/routing.md §4)."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .callbacks import DIAL_MARK
from .clocks import clock_lock
from .models import Clock
from .recordings import RECORD_MARK
from .services import RING_MARK

logger = logging.getLogger("routing.worker")

HEARTBEAT_PREFIX = "worker:"
# A task claimed this many times without finishing (it kills its worker) is failed, not retried.
MAX_CLAIMS = 3
MARKS_KEPT = timedelta(hours=1)


class LeaseExpired(Exception):
    """Set as the error of a task whose workers died MAX_CLAIMS times while running it."""


def worker_heartbeat(*, worker_id: str, now: datetime) -> None:
    """This worker is alive at ``now``."""
    clock_lock(name=HEARTBEAT_PREFIX + worker_id, now=now)


def worker_heartbeat_end(*, worker_id: str) -> None:
    """A worker stopping on purpose: nothing of it stays looking alive."""
    Clock.objects.filter(name=HEARTBEAT_PREFIX + worker_id).delete()


def tasks_reclaim(*, now: datetime, lease: timedelta) -> dict:
    """RUNNING tasks claimed more than ``lease`` ago by a worker with no heartbeat since
    ``now - lease``: back to READY (or FAILED after MAX_CLAIMS claims). Heartbeats older than
    the lease are deleted. Counts of what was done."""
    alive = {
        name.removeprefix(HEARTBEAT_PREFIX)
        for name in Clock.objects.filter(
            name__startswith=HEARTBEAT_PREFIX, at__gte=now - lease
        ).values_list("name", flat=True)
    }
    stale = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - lease
    ).values_list("pk", "worker_ids")
    lost = [(pk, ids) for pk, ids in stale if not ids or ids[-1] not in alive]
    reclaimed = failed = 0
    for pk, ids in lost:
        with transaction.atomic():
            task_result = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=TaskResultStatus.RUNNING)
                .first()
            )
            if task_result is None or task_result.worker_ids != ids:
                continue  # finished, or claimed again, meanwhile
            if len(ids) >= MAX_CLAIMS:
                task_result.set_failed(
                    LeaseExpired(f"its worker stopped beating {len(ids)} times while running it")
                )
                failed += 1
                logger.error("task %s failed: its workers died %s times", pk, len(ids))
                continue
            task_result.status = TaskResultStatus.READY
            task_result.save(update_fields=["status"])
            reclaimed += 1
            logger.warning("task %s of lost worker %s back to ready", pk, ids[-1] if ids else "?")
    Clock.objects.filter(name__startswith=HEARTBEAT_PREFIX, at__lt=now - lease).delete()
    # The marks of rings, dials and recording starts begun by workers that died after them.
    for mark in (RING_MARK, DIAL_MARK, RECORD_MARK):
        Clock.objects.filter(name__startswith=mark, at__lt=now - MARKS_KEPT).delete()
    return {"reclaimed": reclaimed, "failed": failed}
