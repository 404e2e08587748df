"""The generic Enqueue action (collection point 1): QueueResult and QueueTime, idempotently."""

import pytest

from queues.models import QueueResult, QueueVisit
from queues.signals import caller_enqueued, caller_left
from tests.factories import autocommit_queries, twiml, verb_details

from .conftest import CALLER, post_exit, post_wait

ALL_RESULTS = [r for r in QueueResult.values if r != QueueResult.WAITING]


@pytest.fixture
def sent():
    received = []

    def on_enqueued(sender, visit, **kwargs):
        received.append(("enqueued", visit.pk))

    def on_left(sender, visit, **kwargs):
        received.append(("left", visit.pk, visit.result))

    caller_enqueued.connect(on_enqueued)
    caller_left.connect(on_left)
    yield received
    caller_enqueued.disconnect(on_enqueued)
    caller_left.disconnect(on_left)


@pytest.mark.parametrize("result", ALL_RESULTS)
def test_it_records_each_queue_result_with_its_wait(twilio, queue, result, sent):
    post_wait(twilio, queue, queue_time=0)
    root = twiml(post_exit(twilio, queue, result=result, queue_time=42))
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds) == (result, 42)
    assert visit.left_at is not None
    assert sent == [("enqueued", visit.pk), ("left", visit.pk, result)]
    if result == QueueResult.QUEUE_FULL:
        assert verb_details(root) == [
            (
                "Say",
                "ただいま大変混み合っております。",
                {"language": "ja-JP", "voice": "Polly.Mizuki"},
            )
        ]
    else:
        assert verb_details(root) == []


def test_queue_full_creates_a_refused_visit_and_says_the_message(
    twilio, queue, sent, django_assert_num_queries
):
    # call upsert (one statement); queue; messages (first read in this process for this
    # configuration); then the visit's transaction (savepoint): latest visit, visit insert
    # (INSERT … ON CONFLICT DO NOTHING), visit update, release; event insert
    with django_assert_num_queries(autocommit_queries(9)):
        root = twiml(post_exit(twilio, queue, result="queue-full"))
    assert [v[1] for v in verb_details(root)] == ["ただいま大変混み合っております。"]
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds, visit.call.sid) == ("queue-full", None, CALLER)
    # A refusal is not an entry: nobody is told the caller was enqueued.
    assert sent == [("left", visit.pk, "queue-full")]


def test_a_hangup_before_the_wait_url_still_records_the_abandon(twilio, queue):
    post_exit(twilio, queue, result="hangup", queue_time=2)
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds) == ("hangup", 2)


def test_a_duplicated_exit_changes_nothing(twilio, queue, sent, django_assert_num_queries):
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="hangup", queue_time=17)
    before = list(QueueVisit.objects.values())
    sent.clear()
    # call upsert; the visit's transaction (savepoint, latest visit, release); event insert (the
    # queue is kept in memory)
    with django_assert_num_queries(autocommit_queries(5)):
        twiml(post_exit(twilio, queue, result="hangup", queue_time=17))
    assert list(QueueVisit.objects.values()) == before
    assert sent == []


def test_a_second_entry_after_leaving_is_a_new_visit(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="leave", queue_time=600)
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="hangup", queue_time=9)
    assert list(
        QueueVisit.objects.order_by("entry").values_list("entry", "result", "wait_seconds")
    ) == [(1, "leave", 600), (2, "hangup", 9)]


@pytest.mark.parametrize("fields", [{"QueueResult": "bogus"}, {"QueueTime": "-3"}])
def test_it_rejects_a_malformed_exit(twilio, queue, fields):
    from tests.conftest import call_fields

    from .conftest import url

    data = call_fields(CALLER, QueueResult="hangup", QueueTime="3")
    data.update(fields)
    response = twilio.post(url("exit", queue), data)
    assert response.status_code == 400
    assert QueueVisit.objects.count() == 0
