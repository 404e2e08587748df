"""Presence follows calls by itself, driven by the real queue and status webhooks."""

import pytest

from agents.models import AgentStatus, AgentStatusInterval
from agents.services import agent_set_status
from queues.models import QueueVisit
from tests.factories import twiml

from .conftest import (
    AGENT_LEG,
    CALLER,
    answer_queued_caller,
    post_connect,
    post_dial_action,
    post_outgoing,
    post_status,
    post_wait,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def available(agent):
    from django.utils import timezone

    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    return agent


def statuses(agent):
    return list(
        AgentStatusInterval.objects.filter(agent=agent)
        .order_by("started_at", "id")
        .values_list("status", flat=True)
    )


def test_the_agent_goes_on_call_when_the_caller_is_bridged(twilio, available, queue):
    answer_queued_caller(twilio, queue, wait=42)

    available.refresh_from_db()
    assert available.status == AgentStatus.ON_CALL
    assert available.current_call_sid == AGENT_LEG
    assert available.current_visit.call.sid == CALLER
    assert statuses(available) == ["available", "on-call"]


def test_the_agent_is_available_again_when_the_dial_action_reports_the_talk(
    twilio, available, queue
):
    answer_queued_caller(twilio, queue)

    twiml(post_dial_action(twilio, queue, duration=95))

    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE
    assert statuses(available) == ["available", "on-call", "available"]
    visit = QueueVisit.objects.get(call__sid=CALLER)
    assert visit.talk_seconds == 95
    assert visit.wrap_up_seconds == 0


def test_the_agent_wraps_up_for_the_queues_wrap_up_time(twilio, available, queue, client):
    queue.wrap_up_seconds = 60
    queue.save(update_fields=["wrap_up_seconds"])
    answer_queued_caller(twilio, queue)

    post_dial_action(twilio, queue, duration=30)

    available.refresh_from_db()
    assert available.status == AgentStatus.WRAP_UP
    assert available.wrap_up_until is not None


def test_ready_after_wrap_up_records_the_wrap_up_on_the_visit(twilio, available, queue, client):
    queue.wrap_up_seconds = 600
    queue.save(update_fields=["wrap_up_seconds"])
    answer_queued_caller(twilio, queue)
    post_dial_action(twilio, queue, duration=30)
    client.force_login(available.user)

    response = client.post("/agent/status", {"status": "available"})

    assert response.json()["status"] == "available"
    visit = QueueVisit.objects.get(call__sid=CALLER)
    assert visit.wrap_up_seconds is not None
    assert visit.wrap_up_seconds < 600


def test_the_agent_legs_final_status_callback_also_ends_the_call(twilio, available, queue):
    answer_queued_caller(twilio, queue)

    post_status(twilio, call_sid=AGENT_LEG, status="completed", duration=80)

    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE


def test_both_reports_of_the_end_open_one_interval(twilio, available, queue):
    answer_queued_caller(twilio, queue)

    post_dial_action(twilio, queue, duration=80)
    post_status(twilio, call_sid=AGENT_LEG, status="completed", duration=80)
    post_dial_action(twilio, queue, duration=80)  # a retried Dial action

    assert statuses(available) == ["available", "on-call", "available"]


def test_a_caller_bridged_to_another_identity_leaves_this_agent_alone(twilio, available, queue):
    post_wait(twilio, queue)
    post_outgoing(twilio, to="queue:support", from_="client:someone-else")
    post_connect(twilio, queue, queue_time=5)

    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE


def test_an_outbound_call_ends_through_its_dial_action(twilio, available, settings):
    settings.TWILIO_CALLER_ID = "+815012345678"
    post_outgoing(twilio, to="+81312345678")
    available.refresh_from_db()
    assert available.status == AgentStatus.ON_CALL

    fields = {
        "CallSid": AGENT_LEG,
        "AccountSid": "AC" + "0" * 32,
        "From": "client:agt",
        "To": "+81312345678",
        "CallStatus": "in-progress",
        "DialCallStatus": "completed",
        "DialCallSid": "CA" + "d" * 32,
        "DialCallDuration": "12",
    }
    root = twiml(twilio.post("/agent/twilio/dial-action", fields))

    assert [el.tag for el in root] == ["Hangup"]
    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE


def test_a_busy_number_ends_the_outbound_call_too(twilio, available, settings):
    settings.TWILIO_CALLER_ID = "+815012345678"
    post_outgoing(twilio, to="+81312345678")

    post_status(twilio, call_sid=AGENT_LEG, status="completed", to="+81312345678")

    available.refresh_from_db()
    assert available.status == AgentStatus.AVAILABLE
