"""The task backend writes the row django-tasks-db writes, with one INSERT made once."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks import default_task_backend, task, task_backends
from django_tasks_db.backend import DatabaseBackend as LibraryBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from config.tasks import DatabaseBackend

pytestmark = pytest.mark.django_db


@task(priority=7, queue_name="default")
def ring(*, offer_id: int, note: str = "") -> int:
    return offer_id


COLUMNS = (
    "status",
    "args_kwargs",
    "priority",
    "task_path",
    "worker_ids",
    "queue_name",
    "backend_name",
    "run_after",
    "return_value",
    "exception_class_path",
    "traceback",
    "started_at",
    "finished_at",
)


def _stored(pk) -> dict:
    row = DBTaskResult.objects.filter(pk=pk).values(*COLUMNS, "enqueued_at").get()
    return row


def test_the_project_enqueues_through_this_backend():
    assert isinstance(task_backends["default"], DatabaseBackend)


@pytest.mark.parametrize("run_after", [None, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)])
def test_the_row_is_the_one_django_tasks_db_writes(run_after):
    library = LibraryBackend("default", {})
    ours = default_task_backend
    queued = ring if run_after is None else ring.using(run_after=run_after)
    kwargs = {"offer_id": 42, "note": '日本語 and "quotes"'}

    expected = library._task_to_db_task(queued, (), kwargs)
    written = ours._task_to_db_task(queued, (), kwargs)

    theirs, mine = _stored(expected.pk), _stored(written.pk)
    assert {k: mine[k] for k in COLUMNS} == {k: theirs[k] for k in COLUMNS}
    assert mine["run_after"] == (run_after or get_date_max())
    assert abs((mine["enqueued_at"] - theirs["enqueued_at"]).total_seconds()) < 5
    # The instance handed back is the stored row, saved.
    assert written._state.adding is False
    assert written.enqueued_at == mine["enqueued_at"]
    assert written.run_after == mine["run_after"]


def test_an_enqueued_task_runs_and_gives_its_result():
    from routing.worker import run_pending_tasks

    result = ring.enqueue(offer_id=5)
    run_pending_tasks()

    result.refresh()
    assert result.return_value == 5
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"


def test_enqueueing_is_one_insert():
    with CaptureQueriesContext(connection) as queries:
        ring.enqueue(offer_id=1)

    assert len(queries) == 1
    assert queries[0]["sql"].startswith("INSERT INTO")
