"""Every hang-up order around hold and transfer, through the local Twilio in process: nobody is
left in a silent conference, no ring goes on for a caller who is gone, and every agent's status
comes back right."""

import pytest

from agents.models import Agent, AgentStatus
from routing.control import call_hold, call_transfer_to_agent
from routing.models import Bridge, Hold, Transfer

from . import test_end_to_end
from .test_end_to_end import ready, run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def test_agent1_hanging_up_with_the_caller_on_hold_hangs_the_caller_up(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    call_hold(agent=agent1, now=emu.datetime_at())
    run(emu, 5)
    emu.hangup(emu.call_by_sid(bridge.offer.agent_call_sid), by="agent")
    run(emu, 10)

    assert leg.status == "completed"
    assert conference.status == "completed"
    assert Hold.objects.get().ended_at is not None
    assert Bridge.objects.get(pk=bridge.pk).ended_at is not None
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE


@pytest.mark.parametrize("who", ["caller", "agent1"])
def test_a_hang_up_while_a_colleague_rings_for_a_transfer_stops_the_ring(emu, who):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", on_ring="ignore")
    agent2 = ready("agent2")
    transfer = call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    run(emu, 2)
    gone = leg if who == "caller" else emu.call_by_sid(bridge.offer.agent_call_sid)
    emu.hangup(gone, by="caller" if who == "caller" else "agent")
    run(emu, 10)

    ring = emu.call_by_sid(Transfer.objects.get(pk=transfer.pk).call_sid)
    assert ring.status == "canceled"
    assert leg.status == "completed"
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert not Transfer.objects.get(pk=transfer.pk).connected
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE


def test_the_caller_hanging_up_after_a_transfer_to_agent2_ends_agent2s_call(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=2, talk_seconds=None)
    agent2 = ready("agent2")
    transfer = call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    run(emu, 8)
    emu.hangup(leg)
    run(emu, 10)

    assert emu.call_by_sid(Transfer.objects.get(pk=transfer.pk).call_sid).status == "completed"
    assert conference.status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE
