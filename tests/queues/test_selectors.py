"""Live figures for the wallboard and the admin."""

from datetime import timedelta

from django.utils import timezone

from queues.models import Queue, QueueResult, QueueVisit
from queues.selectors import estimated_wait_minutes, waiting_stats
from telephony.models import Call


def _visit(queue, n, result, *, entered, status="in-progress"):
    call = Call.objects.create(sid=f"CA{n:032d}", started_at=entered, status=status)
    return QueueVisit.objects.create(queue=queue, call=call, entered_at=entered, result=result)


def test_waiting_stats_counts_callers_still_waiting(queue, django_assert_num_queries):
    other = Queue.objects.create(slug="sales", name="Sales")
    now = timezone.now()
    _visit(queue, 1, QueueResult.WAITING, entered=now - timedelta(seconds=90))
    _visit(queue, 2, QueueResult.WAITING, entered=now - timedelta(seconds=10))
    _visit(queue, 3, QueueResult.BRIDGING, entered=now - timedelta(seconds=300))
    _visit(queue, 4, QueueResult.HANGUP, entered=now - timedelta(seconds=400))
    # The call ended but its Enqueue action never came: not waiting any more.
    _visit(queue, 5, QueueResult.WAITING, entered=now - timedelta(seconds=500), status="completed")
    with django_assert_num_queries(1):  # one aggregate over all queues
        stats = waiting_stats(now=now)
    assert stats == {
        queue.pk: {"waiting": 2, "longest_wait_seconds": 90},
        other.pk: {"waiting": 0, "longest_wait_seconds": None},
    }


def test_the_estimate_rounds_the_remaining_wait_up_to_minutes(queue):
    now = timezone.now()
    assert estimated_wait_minutes(queue=queue, queue_time=0) is None
    for n, wait in enumerate([61, 119]):
        visit = _visit(queue, n, QueueResult.BRIDGED, entered=now)
        visit.answered_at, visit.wait_seconds = now, wait
        visit.save()
    assert estimated_wait_minutes(queue=queue, queue_time=0) == 2
    assert estimated_wait_minutes(queue=queue, queue_time=50) == 1
    assert estimated_wait_minutes(queue=queue, queue_time=500) == 1


def test_waiting_leaves_out_answered_callers_and_lost_exits(queue):
    now = timezone.now()
    _visit(queue, 1, QueueResult.WAITING, entered=now - timedelta(seconds=30))
    answered = _visit(queue, 2, QueueResult.WAITING, entered=now - timedelta(seconds=60))
    answered.answered_at = now
    answered.save(update_fields=["answered_at"])
    # Twilio ends every call within 4 hours: an older open visit lost its Enqueue action.
    _visit(queue, 3, QueueResult.WAITING, entered=now - timedelta(hours=5))

    assert waiting_stats(now=now)[queue.pk] == {"waiting": 1, "longest_wait_seconds": 30}
