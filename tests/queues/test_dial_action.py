"""The agent's Dial action: talk seconds onto the visit, whatever order the callbacks arrive in."""

import pytest

from queues.models import QueueVisit
from queues.signals import talk_recorded
from tests.factories import OWN_INSERT, twiml, verb_details

from .conftest import (
    AGENT_LEG,
    agent_leg_call,
    post_connect,
    post_dial_action,
    post_exit,
    post_wait,
)


@pytest.fixture
def talks():
    received = []

    def on_talk(sender, visit, **kwargs):
        received.append((visit.pk, visit.talk_seconds))

    talk_recorded.connect(on_talk)
    yield received
    talk_recorded.disconnect(on_talk)


def test_it_records_the_talk_seconds_on_the_visit(twilio, queue, talks, django_assert_num_queries):
    agent_leg_call("agent1")
    post_wait(twilio, queue, queue_time=0)
    post_connect(twilio, queue, queue_time=14)
    # savepoint, call upsert, the visit's talk in one update (found by the agent leg), the
    # agent by identity (agents' presence receiver), release; the event (with the upsert on
    # PostgreSQL) (the queue is kept in memory)
    with django_assert_num_queries(5 + OWN_INSERT):
        root = twiml(post_dial_action(twilio, queue, duration=95))
    assert verb_details(root) == []
    visit = QueueVisit.objects.get()
    assert visit.talk_seconds == 95
    assert talks == [(visit.pk, 95)]


def test_a_dial_action_before_the_enqueue_action_gives_the_same_visit(twilio, queue):
    agent_leg_call("agent1")
    post_wait(twilio, queue, queue_time=0)
    post_connect(twilio, queue, queue_time=14)
    post_dial_action(twilio, queue, duration=95)
    post_exit(twilio, queue, result="bridged", queue_time=14)
    post_exit(twilio, queue, result="bridged", queue_time=14)
    post_dial_action(twilio, queue, duration=95)
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds, visit.talk_seconds, visit.agent_identity) == (
        "bridged",
        14,
        95,
        "agent1",
    )


def test_the_caller_leg_finds_the_visit_when_the_connect_url_was_lost(twilio, queue):
    post_wait(twilio, queue, queue_time=0)
    post_dial_action(twilio, queue, duration=30, identity="agent2")
    visit = QueueVisit.objects.get()
    assert (visit.talk_seconds, visit.agent_call_sid, visit.agent_identity) == (
        30,
        AGENT_LEG,
        "agent2",
    )


def test_a_dial_that_took_nobody_records_nothing(twilio, queue, talks):
    root = twiml(post_dial_action(twilio, queue, duration=None, status="no-answer", caller=""))
    assert verb_details(root) == []
    assert QueueVisit.objects.count() == 0
    assert talks == []
