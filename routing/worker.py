"""The background worker: django-tasks-db's worker loop, plus the periodic jobs.

``manage.py worker`` runs :func:`run_worker` until SIGTERM / SIGINT (the tasks in hand are
finished first). Every pass of the loop asks the clocks whether a periodic job is due; only one
worker wins each period, so several workers never run a job twice. With ``--threads N`` one
process runs N tasks at once, each thread claiming its own (a task mostly waits on Twilio's REST
API or the database). :func:`run_pending_tasks` runs the same loop until the queue is empty
(tests, ``--batch``).
"""

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, connection, router
from django.db.models import CharField, DateTimeField, JSONField, Q, UUIDField
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from telephony.prepared import Param, Prepared

from .clocks import clock_take_if_due
from .leases import worker_heartbeat, worker_heartbeat_end

logger = logging.getLogger("routing.worker")


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    task_path: str


def _periodic_jobs() -> list[Periodic]:
    from . import tasks

    return [
        Periodic("periodic:routing-sweep", tasks.SWEEP_EVERY, "routing_sweep"),
        Periodic("periodic:reclaim-tasks", tasks.RECLAIM_EVERY, "reclaim_tasks"),
        Periodic("periodic:purge-webhook-events", timedelta(days=1), "purge_webhook_events"),
        Periodic("periodic:purge-recordings", timedelta(days=1), "purge_recordings"),
        Periodic("periodic:prune-task-results", timedelta(hours=1), "prune_task_results"),
    ]


# A dispatch decides from every waiting caller and free agent as they are when it runs. So the
# dispatches with the same arguments that wait unclaimed when one is claimed (each enqueued by
# an event already committed) are done by it: they are marked finished, joined to it. When the
# workers are behind, a burst of events would otherwise leave a dispatch each, every one
# searching again, and the backlog would grow with the work it causes.
JOIN_AT_MOST = 500


def dispatches_join(claimed: DBTaskResult, *, worker_id: str) -> int:
    """In the transaction that claimed ``claimed``: the other unclaimed dispatches with its
    arguments finished, joined to it (a row another worker is claiming is skipped). How many."""
    from .tasks import dispatch

    if claimed.task_path != dispatch.module_path:
        return 0
    now = timezone.now()
    same = (
        DBTaskResult.objects.ready()
        .filter(
            backend_name=claimed.backend_name,
            task_path=claimed.task_path,
            args_kwargs=claimed.args_kwargs,
        )
        .exclude(pk=claimed.pk)
        .select_for_update(skip_locked=True)
    )
    joined = list(same.values_list("pk", flat=True)[:JOIN_AT_MOST])
    if not joined:
        return 0
    return DBTaskResult.objects.filter(pk__in=joined).update(
        status=TaskResultStatus.SUCCESSFUL,
        started_at=now,
        finished_at=now,
        return_value={"joined": str(claimed.pk)},
        worker_ids=[worker_id],
    )


# The next ready task, locked, skipping rows another worker is claiming: django-tasks-db's
# ``DBTaskResult.objects.ready()`` and ``get_locked()`` (highest priority, then the earliest to
# run, then the oldest: the model's order), and its ``claim()`` as one UPDATE, written as
# statements compiled once (telephony.prepared): the worker claims every task this way.
_NEXT_READY = Prepared(
    lambda: (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, backend_name=Param("backend_name", CharField())
        )
        .filter(
            Q(run_after=Param("never", DateTimeField()))
            | Q(run_after__lte=Param("now", DateTimeField()))
        )
        .select_for_update(skip_locked=True)[:1]
    )
)
_CLAIM = Prepared(
    lambda: (
        DBTaskResult.objects.filter(pk=Param("task_id", UUIDField())),
        {
            "status": TaskResultStatus.RUNNING,
            "started_at": Param("started_at", DateTimeField()),
            "worker_ids": Param("worker_ids", JSONField()),
        },
    )
)


def task_claim(*, backend_name: str, worker_id: str) -> DBTaskResult | None:
    """In a transaction: the next ready task of the backend, claimed by ``worker_id``
    (running), or None when none is ready."""
    now = timezone.now()
    task_result = _NEXT_READY.first(backend_name=backend_name, never=get_date_max(), now=now)
    if task_result is None:
        return None
    task_result.status = TaskResultStatus.RUNNING
    task_result.started_at = now
    task_result.worker_ids = [*task_result.worker_ids, worker_id]
    _CLAIM.update(
        task_id=task_result.pk,
        started_at=task_result.started_at,
        worker_ids=task_result.worker_ids,
    )
    return task_result


def schedule_periodic(*, now=None) -> list[str]:
    """Enqueue each periodic job that is due (at most once per period over all workers)."""
    from . import tasks

    now = now or timezone.now()
    enqueued = []
    for job in _periodic_jobs():
        if clock_take_if_due(name=job.name, now=now, every=job.every):
            getattr(tasks, job.task_path).enqueue()
            enqueued.append(job.name)
    return enqueued


class RoutingWorker(Worker):
    """django-tasks-db's Worker, one task per call of :meth:`run_one`.

    A stop signal never raises where the worker happens to be (django-tasks-db's own handler
    exits from a sleep with ``SystemExit``, which could also land in the middle of a database
    statement): the first one only asks every lane to stop after the task in hand, and the
    loop notices within ``STOP_CHECK_EVERY``; a second one stops the process at once."""

    STOP_CHECK_EVERY = 0.2
    PERIODIC_CHECK_EVERY = 1.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lanes: list[RoutingWorker] = [self]
        self.periodic_due = 0.0  # monotonic time of the next look at the periodic jobs

    def lane(self) -> "RoutingWorker":
        """Another loop of this worker (same id and heartbeat), for a thread of its own."""
        other = _worker(self.interval, worker_id=self.worker_id)
        self.lanes.append(other)
        return other

    def shutdown(self, signum: int, frame) -> None:
        name = signal.strsignal(signum)
        if not self.running:
            logger.warning("Received %s again - stopping with the tasks in hand.", name)
            self.reset_signals()
            sys.exit(1)
        logger.warning("Received %s - finishing the tasks in hand, then stopping.", name)
        self.stop()

    def stop(self) -> None:
        for lane in self.lanes:
            lane.running = False

    def pause(self) -> None:
        """Wait ``interval`` before looking for a task again, or less when asked to stop."""
        deadline = time.monotonic() + self.interval
        while self.running and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, self.STOP_CHECK_EVERY))

    def run_one(self) -> bool:
        """Claim and run one ready task; False when there was none."""
        with exclusive_transaction(router.db_for_write(DBTaskResult)):
            try:
                task_result = task_claim(backend_name=self.backend_name, worker_id=self.worker_id)
                if task_result is not None:
                    dispatches_join(task_result, worker_id=self.worker_id)
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                task_result = None
        if task_result is None:
            return False
        self.run_task(task_result)
        return True

    def loop(self, *, periodic: bool = True, until_empty: bool = False) -> int:
        ran = 0
        while self.running:
            if not until_empty:
                close_old_connections()  # a long-running worker, as Django's requests do
            if periodic and time.monotonic() >= self.periodic_due:
                # Two statements per job: asked at most once a second, not before every task
                # (the shortest period is 5 s).
                self.periodic_due = time.monotonic() + self.PERIODIC_CHECK_EVERY
                try:
                    schedule_periodic()
                except OperationalError as exc:
                    if not is_locked_database_exception(exc):
                        raise
            if self.run_one():
                ran += 1
                continue
            if until_empty:
                return ran
            close_old_connections()
            self.pause()
        return ran


def _worker(interval: float, *, worker_id: str | None = None) -> RoutingWorker:
    return RoutingWorker(
        queue_names=["*"],
        interval=interval,
        batch=False,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id or get_random_string(32),
        excluded_queue_names=[],
    )


class Heartbeat(threading.Thread):
    """Beats for a worker every HEARTBEAT_EVERY, in its own thread (and database connection) so
    a long task does not look like a dead worker; :meth:`stop` removes the heartbeat."""

    def __init__(self, worker_id: str, every: float):
        super().__init__(name=f"heartbeat-{worker_id[:8]}", daemon=True)
        self.worker_id = worker_id
        self.every = every
        self.stopped = threading.Event()

    def beat(self) -> None:
        try:
            worker_heartbeat(worker_id=self.worker_id, now=timezone.now())
        except OperationalError as exc:  # a busy database: the next beat will do
            logger.warning("worker %s heartbeat skipped: %s", self.worker_id, exc)

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.every):
                self.beat()
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        if self.ident is not None:  # started
            self.join()
        worker_heartbeat_end(worker_id=self.worker_id)


class Lane(threading.Thread):
    """One more loop of a worker, in a thread (and database connection) of its own; the periodic
    jobs are left to the main loop. A lane that fails (the database gone, say) stops the whole
    worker, as a failing main loop does, so that its supervisor starts it again whole."""

    def __init__(self, main: RoutingWorker, number: int):
        super().__init__(name=f"lane-{number}-{main.worker_id[:8]}", daemon=True)
        self.main = main
        self.worker = main.lane()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.worker.loop(periodic=False)
        except Exception as exc:
            self.failure = exc
            logger.exception("worker %s: a task thread failed; stopping", self.main.worker_id)
            self.main.stop()
        finally:
            connection.close()


def run_worker(*, interval: float = 0.2, threads: int = 1, started=None) -> None:
    """Run until stopped, ``threads`` tasks at a time; SIGTERM or SIGINT lets the tasks in hand
    finish, then exits (and removes this worker's heartbeat). ``started()`` is called once the
    stop signals are handled and the heartbeat is written."""
    from .tasks import HEARTBEAT_EVERY

    worker = _worker(interval)
    heartbeat = Heartbeat(worker.worker_id, HEARTBEAT_EVERY.total_seconds())
    lanes = [Lane(worker, number) for number in range(1, max(threads, 1))]
    worker.configure_signals()
    try:
        heartbeat.beat()  # alive before the first claim
        heartbeat.start()
        for lane in lanes:
            lane.start()
        logger.info("worker %s started, %d task(s) at a time", worker.worker_id, len(lanes) + 1)
        if started is not None:
            started()
        worker.loop()
    finally:
        worker.stop()
        for lane in lanes:
            if lane.ident is not None:
                lane.join()
        heartbeat.stop()
    failed = [lane.failure for lane in lanes if lane.failure is not None]
    if failed:
        raise RuntimeError("a task thread of this worker failed") from failed[0]


def run_pending_tasks(*, periodic: bool = False) -> int:
    """Run every ready task, including those the tasks enqueue, until none is left; the
    number run. The real worker's code path, in this process (tests, ``worker --batch``)."""
    return _worker(0).loop(periodic=periodic, until_empty=True)
