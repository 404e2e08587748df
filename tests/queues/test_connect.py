"""The connect URL (collection point 2): answered, wait = QueueTime, the agent leg and identity."""

import pytest

from queues.models import QueueResult, QueueVisit
from queues.signals import caller_connected
from tests.factories import OWN_INSERT, twiml, verb_details

from .conftest import AGENT_LEG, agent_leg_call, post_connect, post_exit, post_wait

CONNECT = ("Say", "オペレータにおつなぎします。", {"language": "ja-JP", "voice": "Polly.Mizuki"})
NOTICE = ("Say", "この通話は録音されます。", {"language": "ja-JP", "voice": "Polly.Mizuki"})


@pytest.fixture
def connected():
    received = []

    def on_connected(sender, visit, **kwargs):
        received.append((visit.pk, visit.agent_identity, visit.agent_call_sid))

    caller_connected.connect(on_connected)
    yield received
    caller_connected.disconnect(on_connected)


def test_it_marks_the_visit_answered_with_the_agent(
    twilio, queue, connected, django_assert_num_queries
):
    agent_leg_call("agent1")
    post_wait(twilio, queue, queue_time=0)
    # savepoint, call upsert, the visit's update (the agent leg's From read inside it), the
    # agent by identity (agents' presence receiver), release; the event (with the upsert on
    # PostgreSQL) (the queue is kept in memory; no ring to stop: the caller was never offered,
    # the agent never rung)
    with django_assert_num_queries(5 + OWN_INSERT):
        root = twiml(post_connect(twilio, queue, queue_time=14))
    assert verb_details(root) == [CONNECT]
    visit = QueueVisit.objects.get()
    assert visit.answered_at is not None and visit.answered
    assert (visit.wait_seconds, visit.agent_call_sid, visit.agent_identity) == (
        14,
        AGENT_LEG,
        "agent1",
    )
    assert visit.result == QueueResult.BRIDGING
    assert connected == [(visit.pk, "agent1", AGENT_LEG)]


def test_it_adds_the_recording_notice_when_calls_are_recorded(twilio, queue):
    queue.record_answered_calls = True
    queue.save()
    post_wait(twilio, queue, queue_time=0)
    assert verb_details(twiml(post_connect(twilio, queue, queue_time=3))) == [CONNECT, NOTICE]


def test_without_the_agent_leg_row_the_identity_stays_blank(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_connect(twilio, queue, queue_time=3)
    visit = QueueVisit.objects.get()
    assert (visit.agent_call_sid, visit.agent_identity) == (AGENT_LEG, "")


def test_a_duplicated_connect_changes_nothing(twilio, queue, connected):
    agent_leg_call("agent1")
    post_wait(twilio, queue, queue_time=0)
    post_connect(twilio, queue, queue_time=14)
    before = list(QueueVisit.objects.values())
    twiml(post_connect(twilio, queue, queue_time=15))
    assert list(QueueVisit.objects.values()) == before
    assert len(connected) == 1


def test_the_bridged_exit_keeps_the_wait_of_the_connect(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_connect(twilio, queue, queue_time=14)
    post_exit(twilio, queue, result="bridged", queue_time=14)
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds) == ("bridged", 14)


def test_a_connect_after_the_bridged_exit_lands_on_the_same_visit(twilio, queue):
    agent_leg_call("agent2")
    post_wait(twilio, queue, queue_time=0)
    post_exit(twilio, queue, result="bridged", queue_time=8)
    post_connect(twilio, queue, queue_time=8)
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds, visit.agent_identity) == ("bridged", 8, "agent2")
    assert visit.answered_at is not None
