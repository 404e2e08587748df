"""The wait URL: the visit opens once, the position is announced at most every N seconds."""

from queues.models import QueueResult, QueueVisit
from telephony.models import WebhookEvent
from tests.factories import autocommit_queries, kept_queries, twiml, verb_details

from .conftest import CALLER, POSITION_JA, post_wait


def test_the_first_request_opens_the_visit_and_announces_the_position(
    twilio, queue, django_assert_num_queries
):
    # the call upsert (one statement, autocommit); queue; messages (first read in this process
    # for this configuration); latest visit (none); then, to open it, a transaction
    # (savepoint): the visit inserted with its first announcement (INSERT … ON CONFLICT DO
    # NOTHING: no lock, no savepoint of its own); routing's task for the new caller (push
    # queue); release; event insert (on PostgreSQL in the upsert's statement)
    with django_assert_num_queries(autocommit_queries(9)):
        root = twiml(post_wait(twilio, queue, queue_time=0, position=3))
    assert verb_details(root) == [
        ("Pause", "", {"length": "3"}),
        ("Say", POSITION_JA.format(position=3), {"language": "ja-JP", "voice": "Polly.Mizuki"}),
        ("Pause", "", {"length": "27"}),
    ]
    visit = QueueVisit.objects.get()
    assert (visit.call.sid, visit.queue, visit.entry) == (CALLER, queue, 1)
    assert visit.result == QueueResult.WAITING
    assert visit.queue_sid.startswith("QU")
    assert visit.announced_at_queue_time == 0


def test_it_does_not_announce_again_before_the_interval(twilio, queue, django_assert_num_queries):
    post_wait(twilio, queue, queue_time=0, position=3)
    # the call upsert, the latest visit, the event insert (autocommit; the queue is kept in
    # memory for this configuration): on PostgreSQL one statement
    with django_assert_num_queries(kept_queries(3)):
        root = twiml(post_wait(twilio, queue, queue_time=12, position=2))
    assert verb_details(root) == [("Pause", "", {"length": "18"})]
    assert QueueVisit.objects.count() == 1


def test_it_announces_the_new_position_once_the_interval_passed(twilio, queue):
    post_wait(twilio, queue, queue_time=0, position=3)
    post_wait(twilio, queue, queue_time=27, position=3)
    root = twiml(post_wait(twilio, queue, queue_time=31, position=1))
    assert [v[1] for v in verb_details(root) if v[0] == "Say"] == [POSITION_JA.format(position=1)]
    visit = QueueVisit.objects.get()
    assert visit.announced_at_queue_time == 31


def test_it_plays_the_hold_music_after_the_announcement(twilio, queue):
    queue.hold_music_url = "https://music.example.com/hold.mp3"
    queue.save()
    root = twiml(post_wait(twilio, queue, queue_time=0, position=1))
    assert [v[0] for v in verb_details(root)] == ["Pause", "Say", "Play"]
    assert root[2].text == "https://music.example.com/hold.mp3"
    root = twiml(post_wait(twilio, queue, queue_time=5, position=1))
    assert verb_details(root) == [("Play", "https://music.example.com/hold.mp3", {})]


def test_it_leaves_the_queue_at_the_max_wait(twilio, queue, django_assert_num_queries):
    post_wait(twilio, queue, queue_time=0)
    # the call upsert, the latest visit, the event insert (autocommit; the queue is kept in
    # memory for this configuration): on PostgreSQL one statement
    with django_assert_num_queries(kept_queries(3)):
        root = twiml(post_wait(twilio, queue, queue_time=600))
    assert verb_details(root) == [("Leave", "", {})]


def test_the_pause_never_runs_past_the_max_wait(twilio, queue):
    queue.max_wait_seconds = 25
    queue.save()
    post_wait(twilio, queue, queue_time=0)
    root = twiml(post_wait(twilio, queue, queue_time=20))
    assert verb_details(root) == [("Pause", "", {"length": "5"})]


def test_it_announces_the_estimated_wait_from_recent_answered_waits(twilio, queue):
    from django.utils import timezone

    from telephony.models import Call

    queue.announce_estimated_wait = True
    queue.save()
    now = timezone.now()
    for n, wait in enumerate([100, 200, 300]):
        call = Call.objects.create(sid=f"CA{n:032d}", started_at=now, status="completed")
        QueueVisit.objects.create(
            queue=queue,
            call=call,
            entered_at=now,
            answered_at=now,
            result=QueueResult.BRIDGED,
            wait_seconds=wait,
        )
    root = twiml(post_wait(twilio, queue, queue_time=20, position=2))
    # mean 200 s, 20 s already waited: 180 s = 3 minutes
    said = [v[1] for v in verb_details(root) if v[0] == "Say"]
    assert said == ["現在、2番目です。あと約3分でおつなぎします。"]


def test_without_answered_visits_it_says_the_plain_position(twilio, queue):
    queue.announce_estimated_wait = True
    queue.save()
    root = twiml(post_wait(twilio, queue, queue_time=0, position=2))
    assert [v[1] for v in verb_details(root) if v[0] == "Say"] == [POSITION_JA.format(position=2)]


def test_it_rejects_a_request_without_queue_time(twilio, queue):
    from tests.conftest import call_fields

    from .conftest import url

    response = twilio.post(url("wait", queue), call_fields(CALLER, QueuePosition="1"))
    assert response.status_code == 400
    assert QueueVisit.objects.count() == 0


def test_it_rejects_a_forged_request(twilio, queue):
    from tests.conftest import call_fields

    from .conftest import url

    response = twilio.post(
        url("wait", queue), call_fields(CALLER, QueueTime="0"), signature="forged"
    )
    assert response.status_code == 403
    assert QueueVisit.objects.count() == 0
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FORGED


def test_an_unknown_queue_gets_the_apology_and_a_failed_event(twilio, queue):
    from django.urls import reverse

    from tests.conftest import call_fields

    path = reverse("queues:wait", kwargs={"slug": "nope"})
    root = twiml(twilio.post(path, call_fields(CALLER, QueueTime="0", QueuePosition="1")))
    assert [el.tag for el in root] == ["Say", "Say", "Hangup"]
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FAILED
    assert QueueVisit.objects.count() == 0
