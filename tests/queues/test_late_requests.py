"""A request that arrives after a call's visit ended (late or replayed) never opens a new one."""

from django.urls import reverse

from queues.models import QueueResult, QueueVisit
from tests.conftest import call_fields
from tests.factories import kept_queries

from .conftest import CALLER, post_connect, post_exit, post_wait, twiml, verbs


def visits():
    return list(QueueVisit.objects.order_by("entry").values_list("entry", "result"))


def test_a_wait_request_after_the_hang_up_opens_no_second_visit(
    twilio, queue, django_assert_num_queries
):
    post_exit(twilio, queue, result="hangup", queue_time=2)
    # the call upsert with the event and the latest visit (one statement on PostgreSQL;
    # autocommit; the queue is kept in memory for this configuration)
    with django_assert_num_queries(kept_queries(3)):
        root = twiml(post_wait(twilio, queue, queue_time=3, position=1))
    assert [verb[0] for verb in verbs(root)] == ["Pause"]  # nothing announced
    assert visits() == [(1, QueueResult.HANGUP)]


def test_a_late_wait_request_after_a_visit_ended_is_about_that_visit(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="leave", queue_time=20)
    # QueueTime 15 puts its entry 15 s before the visit that ended a moment ago ended.
    post_wait(twilio, queue, queue_time=15)
    assert visits() == [(1, QueueResult.LEAVE)]
    assert not QueueVisit.objects.filter(result=QueueResult.WAITING).exists()


def test_a_wait_request_for_a_call_that_ended_opens_no_visit(twilio, queue):
    status = call_fields(CALLER, CallStatus="completed", CallDuration="30", SequenceNumber="0")
    twilio.post(reverse("telephony:voice-status"), status)

    twiml(post_wait(twilio, queue, queue_time=3))
    assert visits() == []


def test_a_connect_after_the_hang_up_answers_nobody(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="hangup", queue_time=5)

    assert post_connect(twilio, queue, queue_time=5).status_code == 200
    assert visits() == [(1, QueueResult.HANGUP)]
    assert QueueVisit.objects.get().answered_at is None


def test_a_late_exit_after_the_hang_up_opens_no_second_visit(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="hangup", queue_time=5)
    post_exit(twilio, queue, result="leave", queue_time=4)
    assert visits() == [(1, QueueResult.HANGUP)]


def test_entering_again_after_leaving_still_opens_the_next_visit(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="leave", queue_time=20)
    post_wait(twilio, queue, queue_time=0)
    assert visits() == [(1, QueueResult.LEAVE), (2, QueueResult.WAITING)]
