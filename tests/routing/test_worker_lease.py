"""The real `manage.py worker` and task leases: a worker keeps a heartbeat while it runs and
removes it on SIGTERM; a task left RUNNING by a SIGKILLed worker is run by another worker once
the lease is over."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.factories import ROOT, manage_py


@pytest.fixture
def migrated(tmp_path):
    path = tmp_path / "lease.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "DEBUG": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TASK_LEASE_SECONDS": "1",
    }
    done = manage_py("migrate", "-v0", env=env)
    assert done.returncode == 0, done.stderr
    return path, env


def start_worker(env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1"],
        cwd=ROOT,
        env=env,
    )


def query(path, sql, *params):
    with sqlite3.connect(path, timeout=10) as db:
        return db.execute(sql, params).fetchall()


def wait_for(check, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def heartbeats(path):
    return [
        name.removeprefix("worker:")
        for (name,) in query(path, "select name from routing_clock where name like 'worker:%'")
    ]


def stop(worker, sig):
    if worker.poll() is None:
        worker.send_signal(sig)
    return worker.wait(timeout=30)


def test_a_worker_beats_while_it_runs_and_removes_its_heartbeat_on_sigterm(migrated):
    path, env = migrated
    worker = start_worker(env)
    try:
        wait_for(lambda: heartbeats(path), "a heartbeat")
        assert stop(worker, signal.SIGTERM) == 0
        assert heartbeats(path) == []
    finally:
        stop(worker, signal.SIGKILL)


def test_a_task_left_running_by_a_killed_worker_is_run_by_another_once(migrated):
    path, env = migrated
    killed = start_worker(env)
    try:
        [dead_id] = wait_for(lambda: heartbeats(path), "the first worker's heartbeat")
        stop(killed, signal.SIGKILL)
    finally:
        stop(killed, signal.SIGKILL)
    # The task the killed worker was running when it died.
    code = (
        "from django.utils import timezone; from datetime import timedelta;"
        "from django_tasks_db.models import DBTaskResult; from routing import tasks;"
        "r = tasks.prune_task_results.enqueue();"
        "DBTaskResult.objects.filter(pk=r.id).update(status='RUNNING',"
        f" worker_ids=['{dead_id}'], started_at=timezone.now() - timedelta(seconds=5));"
        "print(r.id)"
    )
    done = manage_py("shell", "-c", code, env=env)
    assert done.returncode == 0, done.stderr
    task_id = done.stdout.split()[-1].replace("-", "")  # as SQLite stores a UUID

    other = start_worker(env)
    try:
        sql = "select status, worker_ids from django_tasks_database_dbtaskresult where id = ?"
        [(status, worker_ids)] = wait_for(
            lambda: [r for r in query(path, sql, task_id) if r[0] == "SUCCESSFUL"],
            "the lost task run again",
        )
        assert stop(other, signal.SIGTERM) == 0
    finally:
        stop(other, signal.SIGKILL)
    claims = json.loads(worker_ids)
    assert len(claims) == 2 and claims[0] == dead_id  # the dead worker, then the other
    assert dead_id not in heartbeats(path)
