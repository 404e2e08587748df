"""A three-way call with an outside number, dropping any party, and an agent leaving a call of
three, through the local Twilio in process (its virtual clock and REST API): the emulator's
conference says who hears whom, and which legs are still up, after every step and every
hang-up order."""

import pytest

from agents.models import Agent, AgentStatus
from emulator import Caller
from queues.models import QueueVisit
from routing.control import CallControlError, call_add_number, call_drop, consult_join
from routing.models import Bridge, BridgeParticipant, Transfer, TransferKind
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_consult import _consulting
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock

OUTSIDE = "+81312345678"  # 03-1234-5678, allowed by the demo's outgoing rules


def _hears(conference, sid):
    rows = [p for p in conference.state()["participants"] if p["call_sid"] == sid]
    return set(rows[0]["hears"]) if rows else None


def _in_conference(conference):
    return {p["call_sid"] for p in conference.state()["participants"]}


@pytest.fixture
def three_way(emu, settings):
    """agent1 and the caller talk; agent1 adds 03-1234-5678, who answers after 3 s."""
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    emu.add_callee(OUTSIDE, Caller(answer_after=3))
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    transfer = call_add_number(agent=agent1, number="03-1234-5678", now=emu.datetime_at())
    run(emu, 6)
    transfer.refresh_from_db()
    outside = emu.call_by_sid(transfer.call_sid)
    return agent1, leg, bridge, conference, transfer, outside


def test_an_added_number_hears_and_is_heard_by_the_caller_and_agent1(three_way, emu):
    agent1, leg, bridge, conference, transfer, outside = three_way
    agent_sid = bridge.offer.agent_call_sid

    assert outside.to == OUTSIDE and outside.from_ == DEMO_NUMBER
    assert _hears(conference, leg.sid) == {agent_sid, outside.sid}
    assert _hears(conference, agent_sid) == {leg.sid, outside.sid}
    assert _hears(conference, outside.sid) == {leg.sid, agent_sid}
    assert (transfer.kind, transfer.to_number, transfer.connected) == (
        TransferKind.THREE_WAY_NUMBER,
        OUTSIDE,
        False,
    )
    assert transfer.answered_at is not None
    # Only the caller ends the conference on exit in a call of three.
    ends = {p["call_sid"]: p["end_conference_on_exit"] for p in conference.state()["participants"]}
    assert ends == {leg.sid: True, agent_sid: False, outside.sid: False}


def test_a_number_outside_the_outgoing_rules_is_not_added(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    with pytest.raises(CallControlError):
        call_add_number(agent=agent1, number="+14155550100", now=emu.datetime_at())
    assert not Transfer.objects.exists()
    assert len(emu.calls) == 2


@pytest.mark.parametrize("answer", ["no-answer", "busy", "failed"])
def test_an_added_number_that_does_not_answer_leaves_agent1_and_the_caller_talking(
    emu, settings, client, answer
):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    emu.add_callee(OUTSIDE, Caller(answer=answer))
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(agent1.user)
    transfer = call_add_number(agent=agent1, number=OUTSIDE, now=emu.datetime_at())
    run(emu, 3)
    if answer == "no-answer":
        parties = client.get("/agent/call/parties").json()["parties"]
        assert [(p["label"], p["state"]) for p in parties][-1] == (OUTSIDE, "ringing")
    run(emu, 40)

    agent_sid = bridge.offer.agent_call_sid
    assert emu.call_by_sid(transfer.call_sid).status == answer
    assert _in_conference(conference) == {leg.sid, agent_sid}
    assert _hears(conference, leg.sid) == {agent_sid}
    transfer.refresh_from_db()
    assert (transfer.end_status, transfer.answered_at) == (answer, None)
    body = client.get("/agent/call/parties").json()
    assert [p["role"] for p in body["parties"]] == ["agent", "caller"] or [
        p["role"] for p in body["parties"]
    ] == ["caller", "agent"]
    assert body["ended"] == {
        "id": transfer.pk,
        "label": OUTSIDE,
        "status": answer,
        "answered": False,
    }
    # The call is as before: agent1 hanging up ends it for the caller.
    emu.hangup(emu.call_by_sid(agent_sid), by="agent")
    run(emu, 5)
    assert leg.status == "completed" and conference.status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE


def test_dropping_the_caller_leaves_agent1_and_the_number_talking(three_way, emu):
    agent1, leg, bridge, conference, transfer, outside = three_way
    agent_sid = bridge.offer.agent_call_sid
    run(emu, 10)
    call_drop(agent=agent1, call_sid=leg.sid, now=emu.datetime_at())
    run(emu, 3)

    assert leg.status == "completed"
    assert _hears(conference, agent_sid) == {outside.sid}
    assert _hears(conference, outside.sid) == {agent_sid}
    assert Bridge.objects.get(pk=bridge.pk).ended_at is None
    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.answered_at is not None and visit.talk_seconds is None  # still talking

    emu.hangup(outside)  # the last two: nobody stays alone
    run(emu, 5)
    assert conference.status == "completed"
    assert emu.call_by_sid(agent_sid).status == "completed"
    assert Bridge.objects.get(pk=bridge.pk).ended_at is not None
    visit.refresh_from_db()
    assert visit.talk_seconds is not None and visit.talk_seconds >= 10
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE


def test_dropping_the_number_leaves_agent1_and_the_caller_talking(three_way, emu, client):
    agent1, leg, bridge, conference, transfer, outside = three_way
    agent_sid = bridge.offer.agent_call_sid
    client.force_login(agent1.user)
    assert client.post("/agent/call/drop", {"call_sid": agent_sid}).status_code == 409
    body = client.post("/agent/call/drop", {"call_sid": outside.sid}).json()
    assert {p["call_sid"] for p in body["parties"]} == {leg.sid, agent_sid}
    assert body["ended"]["status"] == "dropped"
    run(emu, 3)

    assert outside.status == "completed"
    assert _hears(conference, leg.sid) == {agent_sid}
    assert client.post("/agent/call/drop", {"call_sid": leg.sid}).status_code == 409  # two left
    emu.hangup(emu.call_by_sid(agent_sid), by="agent")
    run(emu, 5)
    assert leg.status == "completed" and conference.status == "completed"
    assert not Transfer.objects.get(pk=transfer.pk).connected  # not a transfer


def test_dropping_a_number_that_still_rings_stops_the_ring(emu, settings):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    emu.add_callee(OUTSIDE, Caller(answer_after=20))
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    transfer = call_add_number(agent=agent1, number=OUTSIDE, now=emu.datetime_at())
    run(emu, 2)
    call_drop(agent=agent1, call_sid=transfer.call_sid, now=emu.datetime_at())
    run(emu, 30)

    assert emu.call_by_sid(transfer.call_sid).status == "canceled"
    assert _in_conference(conference) == {leg.sid, bridge.offer.agent_call_sid}


@pytest.mark.parametrize("who", ["caller", "agent1"])
def test_a_hang_up_while_the_number_rings_stops_the_ring(emu, settings, who):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    emu.add_callee(OUTSIDE, Caller(answer_after=20))
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    transfer = call_add_number(agent=agent1, number=OUTSIDE, now=emu.datetime_at())
    run(emu, 2)
    gone = leg if who == "caller" else emu.call_by_sid(bridge.offer.agent_call_sid)
    emu.hangup(gone, by="caller" if who == "caller" else "agent")
    run(emu, 30)

    assert emu.call_by_sid(transfer.call_sid).status == "canceled"
    assert leg.status == "completed"
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert emu.conference_named(bridge.friendly_name) is None  # no silent room left
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE


# Every order in which the three hang up: (first, second); the third is hung up by the end.
ORDERS = [
    ("caller", "agent1"),
    ("caller", "number"),
    ("agent1", "caller"),
    ("agent1", "number"),
    ("number", "caller"),
    ("number", "agent1"),
]


@pytest.mark.parametrize(("first", "second"), ORDERS)
def test_every_hang_up_order_of_a_three_way_call_leaves_nobody_behind(
    three_way, emu, first, second
):
    agent1, leg, bridge, conference, transfer, outside = three_way
    agent_leg = emu.call_by_sid(bridge.offer.agent_call_sid)
    legs = {"caller": leg, "agent1": agent_leg, "number": outside}
    emu.hangup(legs[first], by="agent" if first == "agent1" else "caller")
    run(emu, 5)

    if first == "caller":  # the caller leaving ends the call for everyone
        assert {name: c.status for name, c in legs.items()} == dict.fromkeys(legs, "completed")
        assert conference.status == "completed"
    else:  # the other two go on talking
        others = [name for name in legs if name != first]
        a, b = (legs[name] for name in others)
        assert _hears(conference, a.sid) == {b.sid} and _hears(conference, b.sid) == {a.sid}
        assert Transfer.objects.get(pk=transfer.pk).connected == (first == "agent1")
        if legs[second].status != "completed":
            emu.hangup(legs[second], by="agent" if second == "agent1" else "caller")
        run(emu, 5)
        assert {name: c.status for name, c in legs.items()} == dict.fromkeys(legs, "completed")
        assert conference.status == "completed"

    assert Bridge.objects.get(pk=bridge.pk).ended_at is not None
    assert (
        not BridgeParticipant.objects.filter(bridge=bridge, left_at=None)
        .exclude(call_sid__in=[c.sid for c in legs.values()])
        .exists()
    )
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.answered_at is not None and visit.talk_seconds is not None


def test_agent1_leaving_a_three_way_with_a_number_counts_as_a_transfer(three_way, emu):
    from datetime import timedelta

    from django.utils import timezone

    from reports.forms import DateRange
    from reports.metrics import agent_report

    agent1, leg, bridge, conference, transfer, outside = three_way
    emu.hangup(emu.call_by_sid(bridge.offer.agent_call_sid), by="agent")
    run(emu, 5)

    assert _hears(conference, leg.sid) == {outside.sid}
    assert Transfer.objects.get(pk=transfer.pk).connected
    today = timezone.localdate(emu.datetime_at())
    days = DateRange(today - timedelta(days=1), today + timedelta(days=1))
    rows = agent_report(date_range=days, now=emu.datetime_at())
    [row] = [r for r in rows if r["agent"] == "agent1"]
    assert row["transfers_out"] == 1


def test_agent1_drops_the_caller_from_a_three_way_with_agent2(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_join(agent=agent1, now=emu.datetime_at())
    run(emu, 2)
    call_drop(agent=agent1, call_sid=leg.sid, now=emu.datetime_at())
    run(emu, 3)

    agent1_sid = bridge.offer.agent_call_sid
    assert leg.status == "completed"
    assert _hears(conference, agent1_sid) == {transfer.call_sid}
    emu.hangup(emu.call_by_sid(transfer.call_sid), by="agent")  # agent2 leaves: agent1 too
    run(emu, 5)
    assert emu.call_by_sid(agent1_sid).status == "completed"
    assert conference.status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE


def test_agent1_drops_agent2_through_the_desk(emu, client):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_join(agent=agent1, now=emu.datetime_at())
    run(emu, 2)
    client.force_login(agent1.user)
    parties = client.get("/agent/call/parties").json()["parties"]
    assert {(p["label"], p["can_drop"]) for p in parties} == {
        ("agent1", False),
        ("agent2", True),
        (leg.from_, True),
    }
    client.post("/agent/call/drop", {"call_sid": transfer.call_sid})
    run(emu, 3)
    assert _hears(conference, leg.sid) == {bridge.offer.agent_call_sid}
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE


def test_the_desk_adds_a_number_and_refuses_a_second_one_while_it_rings(emu, client, settings):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    emu.add_callee(OUTSIDE, Caller(answer_after=10))
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(agent1.user)

    assert client.post("/agent/call/add-number", {"number": ""}).status_code == 400
    refused = client.post("/agent/call/add-number", {"number": "+14155550100"})
    assert refused.status_code == 409 and refused.json()["error"]
    assert client.post("/agent/call/add-number", {"number": "03-1234-5678"}).json() == {
        "adding": OUTSIDE
    }
    assert client.post("/agent/call/add-number", {"number": "03-1234-5679"}).status_code == 409


def test_agent1_hanging_up_while_consulting_hands_the_caller_off_hold_to_agent2(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    emu.hangup(emu.call_by_sid(bridge.offer.agent_call_sid), by="agent")
    run(emu, 5)

    [row] = [p for p in conference.state()["participants"] if p["call_sid"] == leg.sid]
    assert row["hold"] is False and set(row["hears"]) == {transfer.call_sid}
    assert Transfer.objects.get(pk=transfer.pk).connected  # a completed transfer
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.ON_CALL
    emu.hangup(emu.call_by_sid(transfer.call_sid), by="agent")  # agent2 leaves: so does the caller
    run(emu, 5)
    assert leg.status == "completed" and conference.status == "completed"


def test_the_caller_hanging_up_in_a_three_way_with_agent2_ends_it_for_both_agents(emu):
    agent1, agent2, leg, bridge, conference, transfer = _consulting(emu)
    consult_join(agent=agent1, now=emu.datetime_at())
    run(emu, 2)
    emu.hangup(leg)
    run(emu, 5)

    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert emu.call_by_sid(transfer.call_sid).status == "completed"
    assert conference.status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE
    assert not Transfer.objects.get(pk=transfer.pk).connected
