"""QueueVisit.offered and Agent.may_have_offer: routing marks a caller and an agent when it
offers one to the other, so that taking a call looks for a ring to stop only when one can be
open; an agent rung while taking another caller by hand still has the ring stopped."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Agent
from queues.models import QueueVisit
from routing.models import Offer, OfferOutcome
from tests.factories import leg, new_sid, post_connect

from .helpers import caller_waits, ready_agent, work

pytestmark = pytest.mark.django_db


def _connect(twilio, support, *, caller, identity, queue_time=6):
    hand_leg = new_sid()
    leg(hand_leg, now=timezone.now(), From=f"client:{identity}", To="queue:support")
    with CaptureQueriesContext(connection) as queries:
        response = post_connect(
            twilio, support, queue_time=queue_time, call_sid=caller, agent_leg=hand_leg
        )
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_an_offer_marks_the_caller_and_the_agent(twilio, rest, support, django_user_model):
    agent = ready_agent(django_user_model, "agent1", support)
    assert not agent.may_have_offer
    caller = new_sid()
    caller_waits(twilio, support, caller)
    assert not QueueVisit.objects.get(call__sid=caller).offered

    work()

    assert Offer.objects.get(outcome=OfferOutcome.OPEN).agent == agent
    assert QueueVisit.objects.get(call__sid=caller).offered
    assert Agent.objects.get(pk=agent.pk).may_have_offer


def test_taking_a_caller_never_offered_by_an_agent_never_rung_looks_for_no_ring(
    twilio, rest, support, django_user_model
):
    ready_agent(django_user_model, "byhand", support)
    support.routing_mode = "pull"
    support.save()
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    assert not Offer.objects.exists()

    sql = _connect(twilio, support, caller=caller, identity="byhand")

    assert not any("routing_offer" in statement for statement in sql)
    assert Agent.objects.get(identity="byhand").status == "on-call"


def test_an_agent_rung_for_one_caller_who_takes_another_by_hand_stops_ringing(
    twilio, rest, support, django_user_model
):
    now = timezone.now()
    agent = ready_agent(django_user_model, "agent1", support, now=now - timedelta(minutes=1))
    rung, other = new_sid(), new_sid()
    caller_waits(twilio, support, rung, queue_time=30)
    work()
    offer = Offer.objects.get(outcome=OfferOutcome.OPEN)
    assert offer.agent == agent and offer.visit.call.sid == rung
    caller_waits(twilio, support, other, queue_time=0)  # no free agent: not offered

    _connect(twilio, support, caller=other, identity="agent1")
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN
    assert offer.agent_call_sid in rest.cancels()
    assert Agent.objects.get(pk=agent.pk).status == "on-call"
    assert Agent.objects.get(pk=agent.pk).may_have_offer  # cleared at the next look


def test_the_mark_is_cleared_when_the_agent_goes_on_call_with_no_ring_open(
    twilio, rest, support, django_user_model
):
    agent = ready_agent(django_user_model, "agent1", support)
    rung = new_sid()
    caller_waits(twilio, support, rung)
    work()
    offer = Offer.objects.get(outcome=OfferOutcome.OPEN)
    Offer.objects.filter(pk=offer.pk).update(outcome=OfferOutcome.MISSED, ended_at=timezone.now())
    Agent.objects.filter(pk=agent.pk).update(status="available", missed_until=None)
    other = new_sid()
    caller_waits(twilio, support, other)

    _connect(twilio, support, caller=other, identity="agent1")

    agent.refresh_from_db()
    assert (agent.status, agent.may_have_offer) == ("on-call", False)
