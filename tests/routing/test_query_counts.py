"""Routing's webhooks answer Twilio in a bounded number of queries, whatever the history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.models import Offer
from tests.conftest import call_fields
from tests.factories import new_sid

from .helpers import agent_answers, caller_redirected, caller_waits, ready_agent, ring_ends, work

pytestmark = pytest.mark.django_db


def count(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = fn()
    assert response.status_code in (200, 204), response.content
    return len(queries)


@pytest.fixture
def rung(twilio, rest, support, django_user_model):
    for name in ("a1", "a2"):
        ready_agent(django_user_model, name, support)
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    return Offer.objects.get(), caller


def test_the_wait_url_of_a_push_queue_stays_cheap(twilio, rest, support, django_user_model):
    ready_agent(django_user_model, "a1", support)
    assert count(lambda: caller_waits(twilio, support, new_sid())) <= 18


def test_answer_and_bridge_webhooks_stay_cheap(twilio, rung, support):
    offer, caller = rung
    assert count(lambda: agent_answers(twilio, offer)) <= 45
    work()
    bridge = offer.visit.bridge
    assert count(lambda: caller_redirected(twilio, support, caller, queue_time=4)) <= 10
    join = f"/twilio/routing/bridges/{bridge.pk}/join"
    fields = call_fields(caller, CallStatus="in-progress")
    assert count(lambda: twilio.post(join, fields)) <= 12
    done = f"/twilio/routing/bridges/{bridge.pk}/agent-done"
    agent_fields = call_fields(
        offer.agent_call_sid,
        From=offer.visit.call.from_number,
        To=f"client:{offer.agent.identity}",
        CallStatus="in-progress",
        DialCallStatus="completed",
        DialCallDuration="30",
    )
    assert count(lambda: twilio.post(done, agent_fields)) <= 25


def test_a_ring_ending_stays_cheap(twilio, rung):
    offer, _ = rung
    assert count(lambda: ring_ends(twilio, offer, "no-answer")) <= 32


def test_a_participant_leaving_off_hold_reads_no_bridge(twilio, rung, support):
    """Most of a bridge's conference events are its two legs leaving, off hold: the event is
    stored with the leg, and nothing else is read or written."""
    offer, caller = rung
    agent_answers(twilio, offer)
    work()
    bridge = offer.visit.bridge
    event = f"/twilio/routing/bridges/{bridge.pk}/conference-event"
    fields = call_fields(
        caller,
        CallStatus="in-progress",
        ConferenceSid="CF" + "0" * 32,
        FriendlyName=bridge.friendly_name,
        StatusCallbackEvent="participant-leave",
        Hold="false",
        SequenceNumber="4",
    )
    with CaptureQueriesContext(connection) as queries:
        response = twilio.post(event, fields)
    assert response.status_code == 204
    tables = " ".join(query["sql"] for query in queries)
    assert "routing_bridge" not in tables
    assert len(queries) <= 4
