"""On PostgreSQL the agent a softphone leg is, is read by the leg's own upsert when its final
status callback arrives (telephony.signals.leg_ending), not by a query of its own. These
tests make another transaction hold the leg and move the agent while that statement waits, and
check that the status callback decides on the agent as that transaction left it."""

import threading

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.services import agent_call_started, agent_set_status
from telephony.models import Call
from tests.agents.concurrency import in_another_transaction, postgres_only
from tests.conftest import call_fields
from tests.factories import AGENT_SID

pytestmark = pytest.mark.django_db(transaction=True)


def _holding_the_leg(move, started: threading.Event, errors: list):
    """Another web process: lock the agent's leg, ``move(agent)`` under the agent's lock, and
    commit a moment later (while the status callback under test waits for the leg)."""

    def hold_and_move():
        Call.objects.select_for_update().get(sid=AGENT_SID)
        move(Agent.objects.select_for_update().get(identity="agent1"))

    return in_another_transaction(hold_and_move, started, errors)


def _agent_leg_ringing(twilio):
    response = twilio.post(
        "/twilio/agent/outgoing",
        call_fields(AGENT_SID, From="client:agent1", To="queue:support", CallStatus="ringing"),
    )
    assert response.status_code == 200


def _completed(twilio):
    return twilio.post(
        "/twilio/voice/status",
        call_fields(
            AGENT_SID,
            From="client:agent1",
            To="queue:support",
            CallStatus="completed",
            SequenceNumber="3",
        ),
    )


def test_an_agent_put_on_the_call_while_its_end_waits_frees_the_agent(twilio, demo):
    postgres_only()
    _agent_leg_ringing(twilio)
    agent = Agent.objects.get(identity="agent1")
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    started, errors = threading.Event(), []
    # The leg's own request (another process) puts the agent on this call and commits while
    # the leg's completed status callback waits for the leg: the callback must see it.
    other = _holding_the_leg(
        lambda agent: agent_call_started(
            agent=agent, agent_call_sid=AGENT_SID, visit=None, now=timezone.now(), locked=True
        ),
        started,
        errors,
    )
    other.start()
    assert started.wait(10)

    response = _completed(twilio)  # waits for the other's commit
    other.join()

    assert not errors, errors
    assert response.status_code == 204
    agent = Agent.objects.get(identity="agent1")
    assert agent.status == AgentStatus.AVAILABLE
    assert Call.objects.get(sid=AGENT_SID).status == "completed"


def test_an_agent_moved_off_the_call_while_its_end_waits_is_left_alone(twilio, demo):
    postgres_only()
    _agent_leg_ringing(twilio)
    agent_call_started(
        agent=Agent.objects.get(identity="agent1"),
        agent_call_sid=AGENT_SID,
        visit=None,
        now=timezone.now(),
    )
    started, errors = threading.Event(), []
    other = _holding_the_leg(
        lambda agent: agent_set_status(
            agent=agent, status=AgentStatus.BREAK, now=timezone.now(), locked=True
        ),
        started,
        errors,
    )
    other.start()
    assert started.wait(10)

    response = _completed(twilio)
    other.join()

    assert not errors, errors
    assert response.status_code == 204
    assert Agent.objects.get(identity="agent1").status == AgentStatus.BREAK
