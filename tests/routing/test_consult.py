"""Warm (consult) transfer and three-way, through the local Twilio in process: the caller is held
while agent1 talks to agent2 in the same conference (the emulator says who hears whom), then
agent1 completes (leaves), brings all three together, or cancels and resumes."""

import pytest

from agents.models import Agent, AgentStatus
from routing.control import consult_cancel, consult_complete, consult_join, consult_start
from routing.models import Transfer, TransferKind

from . import test_end_to_end
from .test_end_to_end import ready, run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def _hears(conference, sid):
    [row] = [p for p in conference.state()["participants"] if p["call_sid"] == sid]
    return set(row["hears"])


def _consulting(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=2, talk_seconds=None)
    agent2 = ready("agent2")
    transfer = consult_start(agent=agent1, target=agent2, now=emu.datetime_at())
    run(emu, 6)
    transfer.refresh_from_db()
    agent1_sid = bridge.offer.agent_call_sid
    assert _hears(conference, agent1_sid) == {transfer.call_sid}  # the caller is held
    assert _hears(conference, leg.sid) == set()
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.ON_CALL
    return agent1, agent2, leg, bridge, conference, transfer


def test_a_completed_consult_leaves_the_caller_with_agent2(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_complete(agent=agent1, now=emu.datetime_at())
    run(emu, 5)

    assert _hears(conference, leg.sid) == {transfer.call_sid}
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    transfer.refresh_from_db()
    assert transfer.connected and transfer.kind == TransferKind.CONSULT
    emu.hangup(leg)
    run(emu, 5)
    assert emu.call_by_sid(transfer.call_sid).status == "completed"
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE


def test_a_three_way_call_lets_everyone_hear_everyone_and_agent1_leaving_hands_over(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_join(agent=agent1, now=emu.datetime_at())
    run(emu, 2)

    agent1_sid = bridge.offer.agent_call_sid
    assert _hears(conference, leg.sid) == {agent1_sid, transfer.call_sid}
    assert _hears(conference, agent1_sid) == {leg.sid, transfer.call_sid}
    assert Transfer.objects.get().kind == TransferKind.THREE_WAY
    emu.hangup(emu.call_by_sid(agent1_sid), by="agent")  # agent1 leaves: handed to agent2
    run(emu, 5)
    assert _hears(conference, leg.sid) == {transfer.call_sid}
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Transfer.objects.get().connected  # a completed transfer
    emu.hangup(leg)
    run(emu, 5)
    assert emu.call_by_sid(transfer.call_sid).status == "completed"
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE


def test_a_cancelled_consult_ends_agent2s_leg_and_resumes_the_caller(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_cancel(agent=agent1, now=emu.datetime_at())
    run(emu, 3)

    agent1_sid = bridge.offer.agent_call_sid
    assert _hears(conference, leg.sid) == {agent1_sid}
    assert emu.call_by_sid(transfer.call_sid).status == "completed"
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.ON_CALL
    assert Transfer.objects.get().kind == TransferKind.CANCELLED


def test_the_desk_consults_then_cancels(emu, client):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=2, talk_seconds=None)
    ready("agent2")
    client.force_login(agent1.user)

    assert client.post("/agent/call/consult/cancel").status_code == 409  # nothing to cancel
    assert client.post("/agent/call/consult", {"agent": "agent2"}).json() == {"consult": "start"}
    run(emu, 6)
    assert client.post("/agent/call/consult/cancel").json() == {"consult": "cancel"}
    run(emu, 3)
    assert _hears(conference, leg.sid) == {bridge.offer.agent_call_sid}


def test_agent1_drops_agent2_from_a_three_way_call_and_keeps_the_caller(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_join(agent=agent1, now=emu.datetime_at())
    run(emu, 2)
    consult_cancel(agent=agent1, now=emu.datetime_at())
    run(emu, 3)

    assert _hears(conference, leg.sid) == {bridge.offer.agent_call_sid}
    assert emu.call_by_sid(transfer.call_sid).status == "completed"
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE
    assert Transfer.objects.get().kind == TransferKind.THREE_WAY
