"""/agent/twilio/dial-action: the end of a softphone call to a number or another agent."""

import pytest
from django.urls import reverse

from agents.models import AgentStatus
from tests.conftest import call_fields
from tests.factories import OWN_INSERT, twiml, verbs

from .conftest import AGENT_LEG, post_outgoing

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_outbound_call(twilio, agent, settings):
    settings.TWILIO_CALLER_ID = "+815012345678"
    post_outgoing(twilio, to="+81312345678")
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ON_CALL
    return agent


def dial_action(twilio, *, call_sid=AGENT_LEG, from_="client:agt", status="completed"):
    fields = call_fields(
        call_sid,
        From=from_,
        To="+81312345678",
        CallStatus="in-progress",
        DialCallStatus=status,
        DialCallSid="CA" + "d" * 32,
        DialCallDuration="12",
    )
    return twilio.post(reverse("agents:dial-action"), fields)


def test_it_frees_the_agent_and_hangs_up(twilio, on_outbound_call, django_assert_num_queries):
    # savepoint, call upsert (one statement), agent + user by identity, user's groups,
    # agent lock, close the open interval (one UPDATE), new interval, agent update (status and
    # the call's end in one), release; routing's task for the agent who became available; the
    # webhook event (with the upsert on PostgreSQL)
    with django_assert_num_queries(10 + OWN_INSERT):
        root = twiml(dial_action(twilio))

    assert verbs(root) == ["Hangup"]
    on_outbound_call.refresh_from_db()
    assert on_outbound_call.status == AgentStatus.AVAILABLE


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_an_unanswered_number_frees_the_agent_too(twilio, on_outbound_call, status):
    dial_action(twilio, status=status)

    on_outbound_call.refresh_from_db()
    assert on_outbound_call.status == AgentStatus.AVAILABLE


def test_the_action_of_an_older_call_changes_nothing(twilio, on_outbound_call):
    dial_action(twilio, call_sid="CA" + "0" * 32)

    on_outbound_call.refresh_from_db()
    assert on_outbound_call.status == AgentStatus.ON_CALL


def test_a_forged_request_changes_nothing(twilio, on_outbound_call):
    response = twilio.post(
        reverse("agents:dial-action"), call_fields(AGENT_LEG, From="client:agt"), signature="forged"
    )

    assert response.status_code == 403
    on_outbound_call.refresh_from_db()
    assert on_outbound_call.status == AgentStatus.ON_CALL
