"""The background worker: `manage.py worker` runs until SIGTERM, runs tasks enqueued by
another process, and schedules the periodic jobs once however many workers run."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from routing import tasks
from routing.worker import run_pending_tasks, schedule_periodic
from tests.factories import ROOT, manage_py

pytestmark = pytest.mark.django_db


@pytest.fixture
def migrated(tmp_path):
    path = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "DEBUG": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = manage_py("migrate", "-v0", env=env)
    assert done.returncode == 0, done.stderr
    return path, env


def start_worker(env, *options):
    """`manage.py worker` in a process of its own, its output readable line by line."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1", *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_worker_command_runs_tasks_and_stops_on_sigterm(migrated):
    path, env = migrated
    worker = start_worker(env)
    try:
        lines = [worker.stdout.readline() for _ in range(3)]
        assert any("Worker started" in line for line in lines), lines
        # Both periodic jobs were scheduled and run by this one worker.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sqlite3.connect(path) as db:
                rows = db.execute(
                    "select task_path, status from django_tasks_database_dbtaskresult"
                ).fetchall()
            done = {task for task, status in rows if status == "SUCCESSFUL"}
            if {"routing.tasks.routing_sweep", "routing.tasks.purge_webhook_events"} <= done:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"periodic jobs not run: {rows}")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _rows(path, sql):
    with sqlite3.connect(path, timeout=10) as db:
        return db.execute(sql).fetchall()


def test_a_worker_with_threads_runs_tasks_at_once_and_finishes_them_on_sigterm(migrated):
    path, env = migrated
    code = "from tests.routing.worker_tasks import hold; [hold.enqueue(1.5) for _ in range(3)]"
    done = manage_py("shell", "-c", code, env=env)
    assert done.returncode == 0, done.stderr
    worker = start_worker(env, "--threads", "3")
    held = "select status from django_tasks_database_dbtaskresult where task_path like '%.hold'"
    try:
        lines = [worker.stdout.readline() for _ in range(3)]
        assert any("Worker started (3 task(s) at a time)" in line for line in lines), lines
        deadline = time.monotonic() + 30
        while [status for (status,) in _rows(path, held)] != ["RUNNING"] * 3:
            assert time.monotonic() < deadline, _rows(path, held)
            time.sleep(0.05)
        # All three are in hand at once; the stop signal lets each of them finish.
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert [status for (status,) in _rows(path, held)] == ["SUCCESSFUL"] * 3
    assert _rows(path, "select name from routing_clock where name like 'worker:%'") == []


def test_the_worker_refuses_no_threads(migrated):
    path, env = migrated
    done = manage_py("worker", "--threads", "0", env=env)
    assert done.returncode == 1
    assert "--threads must be 1 or more" in done.stderr


def test_periodic_jobs_are_enqueued_once_per_period_whatever_the_workers():
    now = timezone.now()
    first = schedule_periodic(now=now)
    assert set(first) == {
        "periodic:routing-sweep",
        "periodic:reclaim-tasks",
        "periodic:purge-webhook-events",
        "periodic:purge-recordings",
        "periodic:prune-task-results",
    }
    # A second worker asking at the same moment, or a second later, gets nothing.
    assert schedule_periodic(now=now) == []
    assert schedule_periodic(now=now + timedelta(seconds=1)) == []
    assert schedule_periodic(now=now + tasks.SWEEP_EVERY) == ["periodic:routing-sweep"]
    assert DBTaskResult.objects.filter(task_path="routing.tasks.routing_sweep").count() == 2


def test_a_busy_worker_asks_the_periodic_clocks_once_a_second_not_before_every_task():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from routing.worker import _worker

    for _ in range(4):
        tasks.prune_task_results.enqueue()
    worker = _worker(0)
    worker.PERIODIC_CHECK_EVERY = 60  # however slow this machine, the nine tasks take less
    with CaptureQueriesContext(connection) as queries:
        ran = worker.loop(periodic=True, until_empty=True)

    assert ran == 4 + 5  # and the five periodic jobs, due at the first look
    asked = [query for query in queries.captured_queries if "periodic:" in query["sql"]]
    # Once: per job "does the clock exist?", its creation (a new database) and its conditional
    # UPDATE.
    assert len(asked) == 3 * 5


def test_run_pending_tasks_runs_what_tasks_enqueue_until_nothing_is_left(settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 0
    tasks.purge_webhook_events.enqueue()
    tasks.routing_sweep.enqueue()

    assert run_pending_tasks() >= 2
    assert run_pending_tasks() == 0
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def test_a_task_enqueued_by_a_rolled_back_transaction_never_runs():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.routing_sweep.enqueue()
        raise RuntimeError("the webhook failed")

    assert not DBTaskResult.objects.exists()


def test_finished_task_results_are_pruned_after_a_day():
    from django_tasks_db.models import DBTaskResult

    tasks.routing_sweep.enqueue()
    run_pending_tasks()
    DBTaskResult.objects.update(finished_at=timezone.now() - timedelta(days=2))
    tasks.prune_task_results.enqueue()
    run_pending_tasks()

    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "routing.tasks.prune_task_results"
    ]


def test_decisions_and_calls_steps_run_in_order_before_an_earlier_periodic_job():
    """When the workers are behind, what someone waits for — a decision (dispatch), a step of
    a call (here: offers withdrawn) — is claimed before a periodic job enqueued earlier, and
    among themselves in the order they were enqueued."""
    periodic = tasks.routing_sweep.enqueue()
    decision = tasks.dispatch.enqueue(queue_ids=[1])
    live = tasks.withdraw_offers.enqueue(visit_id=1)

    assert run_pending_tasks() == 3

    started = {
        str(row.pk): row.started_at
        for row in DBTaskResult.objects.filter(pk__in=[periodic.id, decision.id, live.id])
    }
    assert started[decision.id] < started[live.id] < started[periodic.id]
