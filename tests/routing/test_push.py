"""Push routing through the real webhooks and the real worker loop, with Twilio's REST API
played by a stand-in: who rings, for whom, and what happens when the ring ends."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus, Customer
from agents.services import agent_choose_status, agent_report_device
from queues.models import Queue, QueueResult, QueueVisit
from routing.models import Offer, OfferOutcome
from telephony.models import Call, CallStatusEvent
from tests.factories import OWN_INSERT, new_sid, twiml, verb_details

from .helpers import (
    agent_answers,
    caller_hangs_up,
    caller_redirected,
    caller_waits,
    ready_agent,
    ring_ends,
    work,
)

pytestmark = pytest.mark.django_db


def only_open_offer(**filters) -> Offer:
    return Offer.objects.get(outcome=OfferOutcome.OPEN, **filters)


def test_a_waiting_caller_rings_the_longest_idle_agent(twilio, rest, support, django_user_model):
    now = timezone.now()
    ready_agent(django_user_model, "recent", support, now=now)
    ready_agent(django_user_model, "idle", support, now=now - timedelta(minutes=5))
    caller = new_sid()

    caller_waits(twilio, support, caller)
    work()

    offer = only_open_offer()
    assert offer.agent.identity == "idle"
    assert offer.visit.call.sid == caller
    [ring] = rest.rings()
    assert ring["To"] == "client:idle"
    assert str(ring["Timeout"]) == "15"
    assert ring["Url"] == f"http://testserver/twilio/routing/offers/{offer.pk}/answer"
    assert ring["StatusCallback"].endswith(f"/twilio/routing/offers/{offer.pk}/status")
    # Reached the softphone, and the end; the answer is the answer URL's request.
    assert list(ring["StatusCallbackEvent"]) == ["ringing", "completed"]
    assert offer.agent_call_sid and offer.rang_at is not None


def test_the_better_skill_level_rings_before_the_longer_idle(
    twilio, rest, support, django_user_model
):
    now = timezone.now()
    ready_agent(django_user_model, "second", support, priority=2, now=now - timedelta(hours=1))
    ready_agent(django_user_model, "first", support, priority=1, now=now)

    caller_waits(twilio, support, new_sid())
    work()

    assert only_open_offer().agent.identity == "first"


def test_no_agent_rings_without_a_registered_softphone(twilio, rest, support, django_user_model):
    agent = ready_agent(django_user_model, "agent1", support)
    agent_report_device(agent=agent, registered=False, now=timezone.now())

    caller_waits(twilio, support, new_sid())
    work()

    assert not Offer.objects.exists()
    assert rest.rings() == []


def test_a_pull_queue_rings_nobody(twilio, rest, support, django_user_model):
    support.routing_mode = "pull"
    support.save()
    ready_agent(django_user_model, "agent1", support)

    caller_waits(twilio, support, new_sid())
    work()

    assert not Offer.objects.exists()


def test_caller_priority_and_vip_go_first_then_the_longest_wait(
    twilio, rest, support, django_user_model
):
    Customer.objects.create(phone_number="+819000000003", name="VIP", is_vip=True)
    oldest, vip, priority = new_sid(), new_sid(), new_sid()
    caller_waits(twilio, support, oldest, number="+819000000001", queue_time=60)
    caller_waits(twilio, support, vip, number="+819000000003", queue_time=10)
    from tests.factories import post_wait

    post_wait(twilio, support, call_sid=priority, queue_time=5, From="+819000000002")
    QueueVisit.objects.filter(call__sid=priority).update(caller_priority=7)
    work()  # nobody to ring yet

    agent = ready_agent(django_user_model, "a", support)
    work()
    assert only_open_offer(agent=agent).visit.call.sid == priority

    agent_b = ready_agent(django_user_model, "b", support)
    work()
    assert only_open_offer(agent=agent_b).visit.call.sid == vip

    agent_c = ready_agent(django_user_model, "c", support)
    work()
    assert only_open_offer(agent=agent_c).visit.call.sid == oldest


def test_an_agent_who_becomes_available_takes_the_longest_waiter(
    twilio, rest, support, django_user_model
):
    first, second = new_sid(), new_sid()
    caller_waits(twilio, support, first, queue_time=30)
    caller_waits(twilio, support, second, queue_time=3)
    work()
    assert not Offer.objects.exists()

    agent = ready_agent(django_user_model, "agent1", support)
    work()

    assert only_open_offer(agent=agent).visit.call.sid == first


def test_an_agent_prefers_the_queue_they_are_best_at(twilio, rest, support, django_user_model):
    billing = Queue.objects.create(slug="billing", name="Billing")
    agent = ready_agent(django_user_model, "agent1")
    from agents.models import QueueMembership

    QueueMembership.objects.create(agent=agent, queue=support, priority=2)
    QueueMembership.objects.create(agent=agent, queue=billing, priority=1)
    agent_choose_status(agent=agent, status=AgentStatus.BREAK, now=timezone.now())
    support_caller, billing_caller = new_sid(), new_sid()
    caller_waits(twilio, support, support_caller, queue_time=100)
    caller_waits(twilio, billing, billing_caller, queue_time=1)

    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    work()

    assert only_open_offer(agent=agent).visit.call.sid == billing_caller


def test_ring_timeout_moves_the_caller_to_the_next_agent_and_the_first_to_missed(
    twilio, rest, support, django_user_model
):
    now = timezone.now()
    first = ready_agent(django_user_model, "first", support, now=now - timedelta(minutes=9))
    second = ready_agent(django_user_model, "second", support, now=now)
    early, late = new_sid(), new_sid()
    caller_waits(twilio, support, early, queue_time=20)
    work()
    offer = only_open_offer()
    assert offer.agent == first
    caller_waits(twilio, support, late, queue_time=0)
    work()
    assert only_open_offer(agent=second).visit.call.sid == late  # nobody else was free

    assert ring_ends(twilio, offer, "no-answer").status_code == 204
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.MISSED
    assert offer.ended_at is not None and offer.ring_seconds >= 0
    first.refresh_from_db()
    assert first.status == AgentStatus.MISSED
    # The early caller keeps their place: first in line for the next free agent.
    agent_choose_status(agent=first, status=AgentStatus.AVAILABLE, now=timezone.now())
    work()
    # Not the same agent again right away for the caller they missed…
    assert not Offer.objects.filter(agent=first, outcome=OfferOutcome.OPEN).exists()
    third = ready_agent(django_user_model, "third", support)
    work()
    assert only_open_offer(agent=third).visit.call.sid == early


def test_a_rings_callbacks_before_its_end_change_only_the_leg_in_one_statement(
    twilio, rest, support, django_user_model, django_assert_num_queries
):
    ready_agent(django_user_model, "agent1", support)
    caller_waits(twilio, support, new_sid())
    work()
    offer = Offer.objects.select_related("visit__call", "agent").get(outcome=OfferOutcome.OPEN)

    for sequence, status in enumerate(("ringing", "in-progress"), start=1):
        # Autocommit: the leg with the raw event and the status event (PostgreSQL: one
        # statement; SQLite: one each); no transaction, nothing of routing's.
        with django_assert_num_queries(1 + 2 * OWN_INSERT):
            assert ring_ends(twilio, offer, status, sequence=sequence).status_code == 204

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.OPEN
    assert Call.objects.get(sid=offer.agent_call_sid).status == "in-progress"
    assert list(
        CallStatusEvent.objects.filter(call__sid=offer.agent_call_sid).values_list(
            "sequence_number", "status"
        )
    ) == [(1, "ringing"), (2, "in-progress")]
    # The final one still ends the offer, in its transaction.
    assert ring_ends(twilio, offer, "no-answer", sequence=3).status_code == 204
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.MISSED


def test_the_missed_state_clears_itself_after_the_queue_setting(
    twilio, rest, support, django_user_model
):
    from routing.services import routing_sweep

    support.missed_ready_after_seconds = 30
    support.save()
    agent = ready_agent(django_user_model, "agent1", support)
    caller_waits(twilio, support, new_sid())
    work()
    offer = only_open_offer()
    ring_ends(twilio, offer, "no-answer")
    work()
    agent.refresh_from_db()
    assert agent.status == AgentStatus.MISSED
    assert agent.missed_until is not None

    routing_sweep(now=agent.missed_until + timedelta(seconds=1))
    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE


def test_a_rejected_ring_is_recorded_and_the_caller_goes_to_the_next_agent(
    twilio, rest, support, django_user_model
):
    now = timezone.now()
    first = ready_agent(django_user_model, "first", support, now=now - timedelta(minutes=1))
    second = ready_agent(django_user_model, "second", support, now=now)
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    offer = only_open_offer()
    assert offer.agent == first

    ring_ends(twilio, offer, "busy")
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.REJECTED
    first.refresh_from_db()
    assert first.status == AgentStatus.AVAILABLE  # a reject is a choice, not a miss
    assert only_open_offer().agent == second


def test_the_caller_hanging_up_while_it_rings_cancels_the_ring(
    twilio, rest, support, django_user_model
):
    agent = ready_agent(django_user_model, "agent1", support)
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    offer = only_open_offer()

    caller_hangs_up(twilio, support, caller, queue_time=8)
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN
    assert rest.cancels() == [offer.agent_call_sid]
    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE
    # Twilio's "canceled" callback afterwards changes nothing.
    ring_ends(twilio, offer, "canceled")
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN
    # An answer racing the hang-up hears that the caller is gone.
    answer = twiml(agent_answers(twilio, offer))
    assert [verb for verb, _, _ in verb_details(answer)][-1] == "Hangup"


def test_the_device_unregistering_mid_ring_withdraws_and_reoffers(
    twilio, rest, support, django_user_model
):
    now = timezone.now()
    first = ready_agent(django_user_model, "first", support, now=now - timedelta(minutes=1))
    second = ready_agent(django_user_model, "second", support, now=now)
    caller_waits(twilio, support, new_sid())
    work()
    offer = only_open_offer()
    assert offer.agent == first

    agent_report_device(agent=first, registered=False, now=timezone.now())
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN
    assert offer.agent_call_sid in rest.cancels()
    assert only_open_offer().agent == second


def test_the_sweep_ends_an_offer_twilio_never_reported_and_reoffers(
    twilio, rest, support, django_user_model
):
    from routing.services import SWEEP_MARGIN, routing_sweep

    now = timezone.now()
    first = ready_agent(django_user_model, "first", support, now=now - timedelta(minutes=1))
    second = ready_agent(django_user_model, "second", support, now=now)
    caller_waits(twilio, support, new_sid())
    work()
    offer = only_open_offer()

    routing_sweep(now=offer.rang_at + timedelta(seconds=5))
    assert only_open_offer() == offer  # still within the ring timeout
    later = offer.rang_at + timedelta(seconds=offer.ring_timeout_seconds) + SWEEP_MARGIN
    routing_sweep(now=later)
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.MISSED
    assert offer.agent_call_sid in rest.cancels()
    first.refresh_from_db()
    assert first.status == AgentStatus.MISSED
    assert only_open_offer().agent == second


def test_answering_bridges_the_caller_and_the_visit_counts_as_answered(
    twilio, rest, support, django_user_model
):
    from queues.selectors import ANSWERED, OFFERED, OVERFLOWED

    agent = ready_agent(django_user_model, "agent1", support)
    caller = new_sid()
    caller_waits(twilio, support, caller, queue_time=0)
    work()
    offer = only_open_offer()

    answer = twiml(agent_answers(twilio, offer))
    work()

    dial = answer.find("Dial")
    conference = dial.find("Conference")
    visit = QueueVisit.objects.get(call__sid=caller)
    assert conference.text == f"visit-{visit.pk}"
    assert conference.get("endConferenceOnExit") == "true"
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.ACCEPTED
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ON_CALL
    [(member, url)] = rest.member_updates()
    assert member == caller
    assert url.endswith(f"/twilio/routing/bridges/{visit.bridge.pk}/join")

    # The caller leaves the queue (redirected) and joins: connect message, then the conference.
    assert caller_redirected(twilio, support, caller, queue_time=12).status_code == 200
    from tests.conftest import call_fields

    join = twiml(
        twilio.post(
            f"/twilio/routing/bridges/{visit.bridge.pk}/join",
            call_fields(caller, CallStatus="in-progress"),
        )
    )
    assert [v for v, _, _ in verb_details(join)][:1] == ["Say"]
    assert join.find("Dial/Conference").text == f"visit-{visit.pk}"
    # No Dial action on the caller's side: once the conversation is over the call hangs up,
    # without one more request.
    assert join.find("Dial").get("action") is None
    assert [child.tag for child in join][-2:] == ["Dial", "Hangup"]

    # The conversation ends: the agent's conference Dial action gives the talk time.
    done = twilio.post(
        f"/twilio/routing/bridges/{visit.bridge.pk}/agent-done",
        call_fields(
            offer.agent_call_sid,
            From=visit.call.from_number,
            To="client:agent1",
            CallStatus="in-progress",
            DialCallStatus="completed",
            DialCallDuration="45",
        ),
    )
    assert done.status_code == 200
    visit.refresh_from_db()
    assert visit.result == QueueResult.REDIRECTED
    assert visit.wait_seconds == 12
    assert visit.talk_seconds == 45
    assert visit.agent_identity == "agent1"
    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE

    visits = QueueVisit.objects.filter(queue=support)
    assert visits.filter(OFFERED).count() == 1
    assert visits.filter(ANSWERED).count() == 1
    assert visits.filter(OVERFLOWED).count() == 0
    assert Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE


def test_when_one_side_of_the_bridge_hangs_up_the_other_is_hung_up(
    twilio, rest, support, django_user_model
):
    from tests.conftest import call_fields

    ready_agent(django_user_model, "agent1", support)
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    offer = only_open_offer()
    agent_answers(twilio, offer)
    work()
    caller_redirected(twilio, support, caller, queue_time=5)

    # The agent hangs up while the caller still hears the connect message.
    twilio.post(
        "/twilio/voice/status",
        call_fields(
            offer.agent_call_sid,
            From="+819011112222",
            To="client:agent1",
            CallStatus="completed",
            SequenceNumber="9",
        ),
    )
    work()

    ended = [
        path.rsplit("/", 1)[1].removesuffix(".json")
        for method, path, data in rest.requests
        if data.get("Status") == "completed"
    ]
    assert ended == [caller]
    assert QueueVisit.objects.get(call__sid=caller).bridge.ended_at is not None


def test_taking_the_caller_by_hand_stops_the_ring_of_another_agent(
    twilio, rest, support, django_user_model
):
    from tests.factories import leg, post_connect

    now = timezone.now()
    ringing = ready_agent(django_user_model, "ringing", support, now=now - timedelta(minutes=1))
    by_hand = ready_agent(django_user_model, "byhand", support, now=now)
    agent_choose_status(agent=by_hand, status=AgentStatus.BREAK, now=now)
    caller = new_sid()
    caller_waits(twilio, support, caller)
    work()
    offer = only_open_offer()
    assert offer.agent == ringing

    hand_leg = new_sid()
    leg(hand_leg, now=timezone.now(), From="client:byhand", To="queue:support")
    assert (
        post_connect(twilio, support, queue_time=6, call_sid=caller, agent_leg=hand_leg).status_code
        == 200
    )
    work()

    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN
    assert offer.agent_call_sid in rest.cancels()
    visit = QueueVisit.objects.get(call__sid=caller)
    assert (visit.agent_identity, visit.wait_seconds) == ("byhand", 6)
    ringing.refresh_from_db()
    assert ringing.status == AgentStatus.AVAILABLE


def test_an_agent_who_rejected_one_caller_is_offered_the_next_one(
    twilio, rest, support, django_user_model
):
    agent = ready_agent(django_user_model, "agent1", support)
    first, second = new_sid(), new_sid()
    caller_waits(twilio, support, first, queue_time=30)
    work()
    caller_waits(twilio, support, second, queue_time=0)
    offer = only_open_offer()
    assert offer.visit.call.sid == first

    ring_ends(twilio, offer, "busy")
    work()

    assert only_open_offer(agent=agent).visit.call.sid == second
