"""Call.bridged: the caller's inbound leg is marked when routing puts it in a bridge, so its
final status ends the bridge; an inbound leg never put in one ends without a bridge lookup."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queues.models import QueueVisit
from routing.models import Offer, OfferOutcome
from telephony.models import Call
from tests.conftest import call_fields
from tests.factories import new_sid

from .helpers import agent_answers, caller_redirected, caller_waits, ready_agent, work

pytestmark = pytest.mark.django_db


def _caller_hangs_up(twilio, caller, sequence="7"):
    fields = call_fields(caller, CallStatus="completed", SequenceNumber=sequence)
    with CaptureQueriesContext(connection) as queries:
        response = twilio.post("/twilio/voice/status", fields)
    assert response.status_code == 204
    return [query["sql"] for query in queries.captured_queries]


def test_the_callers_leg_is_marked_when_bridged_and_its_hang_up_ends_the_bridge(
    twilio, rest, support, django_user_model
):
    ready_agent(django_user_model, "agent1", support)
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    assert not Call.objects.get(sid=caller).bridged
    offer = Offer.objects.get(outcome=OfferOutcome.OPEN)

    agent_answers(twilio, offer)
    work()
    caller_redirected(twilio, support, caller, queue_time=5)

    assert Call.objects.get(sid=caller).bridged
    assert not Call.objects.get(sid=offer.agent_call_sid).bridged  # outbound: always looked up
    sql = _caller_hangs_up(twilio, caller)
    assert any("routing_bridge" in statement for statement in sql)
    work()
    assert QueueVisit.objects.get(call__sid=caller).bridge.ended_at is not None
    hung_up = [
        path.rsplit("/", 1)[1].removesuffix(".json")
        for method, path, data in rest.requests
        if data.get("Status") == "completed"
    ]
    assert hung_up == [offer.agent_call_sid]


def test_a_caller_never_bridged_ends_without_a_bridge_lookup(twilio, rest, support):
    caller = new_sid()
    caller_waits(twilio, support, caller)

    sql = _caller_hangs_up(twilio, caller)

    assert not any("routing_bridge" in statement for statement in sql)
    assert Call.objects.get(sid=caller).status == "completed"
