"""A worker that claims a dispatch finishes the other unclaimed dispatches with the same
arguments with it (``routing.worker.dispatches_join``): each was enqueued by an event already
committed, which the dispatch about to run sees. Other tasks are never joined."""

import threading
import time

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from routing import tasks
from routing.worker import run_pending_tasks
from tests.agents.concurrency import postgres_only

DISPATCH = "routing.tasks.dispatch"


def _rows(path=DISPATCH):
    return DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at")


@pytest.mark.django_db
def test_waiting_dispatches_with_the_same_arguments_are_done_by_the_one_claimed():
    for _ in range(3):
        tasks.dispatch.enqueue(queue_ids=[1])
    tasks.dispatch.enqueue(agent_id=5)

    assert run_pending_tasks() == 2  # one per kind of dispatch

    rows = list(_rows())
    assert {row.status for row in rows} == {"SUCCESSFUL"}
    ran = [row for row in rows if not isinstance(row.return_value, dict)]
    joined = [row for row in rows if isinstance(row.return_value, dict)]
    assert [row.args_kwargs["kwargs"] for row in ran] == [{"queue_ids": [1]}, {"agent_id": 5}]
    assert {row.return_value["joined"] for row in joined} == {str(ran[0].pk)}
    assert len(joined) == 2


@pytest.mark.django_db
def test_other_tasks_with_the_same_arguments_each_run():
    tasks.prune_task_results.enqueue()
    tasks.prune_task_results.enqueue()

    assert run_pending_tasks() == 2
    assert [row.return_value for row in _rows("routing.tasks.prune_task_results")] == [0, 0]


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_another_worker_is_claiming_is_skipped_not_waited_for():
    postgres_only()
    tasks.dispatch.enqueue(queue_ids=[1])
    tasks.dispatch.enqueue(queue_ids=[1])
    first, second = _rows()
    held, errors = threading.Event(), []

    def other_worker_claiming():
        try:
            with transaction.atomic():
                DBTaskResult.objects.select_for_update().get(pk=second.pk)
                held.set()
                time.sleep(1.5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            held.set()

    other = threading.Thread(target=other_worker_claiming)
    other.start()
    held.wait(5)
    started = time.monotonic()
    ran = run_pending_tasks()
    took = time.monotonic() - started
    other.join()

    assert not errors, errors
    assert (ran, took < 1.0) == (1, True)
    second.refresh_from_db()
    assert second.status == "READY"  # it runs later, on its own
    assert run_pending_tasks() == 1
