"""Cold transfer to a queue, through the local Twilio in process: the caller leaves agent1's
conference into another queue (a new visit there, first in line), agent1's leg ends and agent1
is free, the visit the caller came from stays answered, and agent2 of that queue answers."""

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus, QueueMembership
from queues.models import Queue, QueueResult, QueueVisit
from routing.control import TRANSFER_PRIORITY, CallControlError, call_transfer_to_queue
from routing.models import Bridge, Transfer, TransferKind
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


@pytest.fixture
def billing(demo):
    queue = Queue.objects.create(slug="billing", name="Billing", routing_mode="push")
    QueueMembership.objects.create(
        agent=Agent.objects.get(identity="agent2"), queue=queue, priority=1
    )
    return queue


def test_a_caller_transferred_to_a_queue_is_answered_there_and_agent1_is_free(emu, billing):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    run(emu, 5)

    transfer = call_transfer_to_queue(agent=agent1, queue=billing, now=emu.datetime_at())
    emu.add_agent("agent2", answer_after=2, talk_seconds=20)
    ready("agent2")
    run(emu, 60)

    assert (transfer.kind, transfer.to_queue, transfer.from_queue.slug) == (
        TransferKind.QUEUE,
        billing,
        "support",
    )
    first, second = QueueVisit.objects.filter(call__sid=leg.sid).order_by("entered_at")
    assert first.queue.slug == "support" and first.answered_at is not None
    assert first.agent_identity == "agent1" and first.talk_seconds is not None
    assert second.queue == billing and second.caller_priority == TRANSFER_PRIORITY
    assert second.answered_at is not None and second.agent_identity == "agent2"
    assert second.result == QueueResult.REDIRECTED
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Bridge.objects.get(pk=bridge.pk).ended_at is not None
    assert Bridge.objects.get(visit=second).ended_at is not None  # agent2 hung up after 20 s
    assert leg.status == "completed"


def test_the_transferred_caller_hanging_up_in_the_new_queue_is_an_abandon_there(emu, billing):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    call_transfer_to_queue(agent=agent1, queue=billing, now=emu.datetime_at())
    run(emu, 10)  # nobody of billing is available
    emu.hangup(leg)
    run(emu, 5)

    second = QueueVisit.objects.get(call__sid=leg.sid, queue=billing)
    assert second.result == QueueResult.HANGUP
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Transfer.objects.get().agent == agent1


def test_the_desk_transfers_to_a_queue_by_slug(emu, billing, client):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(agent1.user)

    assert client.post("/agent/call/transfer", {"queue": "nowhere"}).status_code == 400
    response = client.post("/agent/call/transfer", {"queue": "billing"})
    assert response.json() == {"transferred": "queue", "queue": "billing"}
    run(emu, 5)
    assert QueueVisit.objects.filter(call__sid=leg.sid, queue=billing).exists()
    assert client.post("/agent/call/transfer", {"queue": "billing"}).status_code == 409


def test_a_transfer_without_a_call_is_refused(emu, billing):
    with pytest.raises(CallControlError):
        call_transfer_to_queue(agent=ready("agent1"), queue=billing, now=timezone.now())


def test_the_reports_count_the_transfer_out_of_support_and_into_billing(emu, billing):
    from datetime import timedelta

    from reports.forms import DateRange
    from reports.metrics import agent_report, queue_report

    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    call_transfer_to_queue(agent=agent1, queue=billing, now=emu.datetime_at())
    run(emu, 10)
    emu.hangup(leg)
    run(emu, 5)

    today = timezone.localdate(emu.datetime_at())
    days = DateRange(today - timedelta(days=1), today + timedelta(days=1))
    agents = {row["agent"]: row for row in agent_report(date_range=days, now=emu.datetime_at())}
    assert agents["agent1"]["transfers_out"] == 1
    assert agents["agent2"]["transfers_out"] == 0
    support = Queue.objects.get(slug="support")
    rows = queue_report(
        date_range=days, interval="day", queues=[support, billing], now=emu.datetime_at()
    )
    totals = {
        slug: (
            sum(r["transferred_out"] for r in rows if r["queue"] == slug),
            sum(r["transferred_in"] for r in rows if r["queue"] == slug),
            sum(r["offered"] for r in rows if r["queue"] == slug),
        )
        for slug in ("support", "billing")
    }
    assert totals == {"support": (1, 0, 1), "billing": (0, 1, 1)}


def test_a_caller_transferred_to_an_outside_number_is_dialled_with_the_company_id(emu, settings):
    from routing.control import call_transfer_to_number

    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    transfer = call_transfer_to_number(agent=agent1, number="03-1234-5678", now=emu.datetime_at())
    run(emu, 20)

    assert (transfer.kind, transfer.to_number) == (TransferKind.NUMBER, "+81312345678")
    [outside] = [call for call in emu.calls if call.to == "+81312345678"]
    assert outside.from_ == DEMO_NUMBER and outside.status == "in-progress"
    assert leg.status == "in-progress"  # the caller talks to the outside number
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE


def test_a_transfer_to_a_number_outside_the_outgoing_rules_is_refused(emu):
    from routing.control import call_transfer_to_number

    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    with pytest.raises(CallControlError):
        call_transfer_to_number(agent=agent1, number="+14155550100", now=emu.datetime_at())
    assert not Transfer.objects.exists()
    run(emu, 2)
    assert leg.status == "in-progress" and conference.status == "in-progress"


def test_the_desk_transfers_to_a_number_and_refuses_one_outside_the_rules(emu, client, settings):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(agent1.user)

    refused = client.post("/agent/call/transfer", {"number": "+14155550100"})
    assert refused.status_code == 409 and refused.json()["error"]
    response = client.post("/agent/call/transfer", {"number": "03-1234-5678"})
    assert response.json() == {"transferred": "number", "number": "+81312345678"}


def test_a_caller_transferred_to_agent2_stays_with_agent2_and_agent1_is_free(emu):
    from routing.control import call_transfer_to_agent

    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=3, talk_seconds=20)
    agent2 = ready("agent2")
    transfer = call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    run(emu, 10)

    transfer.refresh_from_db()
    assert transfer.connected and transfer.kind == TransferKind.AGENT
    state = {p["call_sid"]: p for p in conference.state()["participants"]}
    assert set(state) == {leg.sid, transfer.call_sid}  # agent1 left, the room goes on
    assert transfer.call_sid in state[leg.sid]["hears"]
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.ON_CALL

    run(emu, 30)  # agent2 hangs up after 20 s: the caller is not left alone
    assert leg.status == "completed"
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE
    assert Bridge.objects.get(pk=bridge.pk).ended_at is not None


def test_a_transfer_agent2_does_not_answer_leaves_agent1_with_the_caller(emu):
    from routing.control import call_transfer_to_agent

    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", on_ring="reject")
    agent2 = ready("agent2")
    transfer = call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    run(emu, 10)

    transfer.refresh_from_db()
    assert not transfer.connected
    assert leg.status == "in-progress" and conference.status == "in-progress"
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.ON_CALL
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE


def test_a_transfer_to_an_agent_who_is_not_available_is_refused(emu):
    from routing.control import call_transfer_to_agent

    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    agent2 = Agent.objects.get(identity="agent2")  # never went available
    with pytest.raises(CallControlError):
        call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())


def test_the_desk_transfers_to_an_agent_by_identity(emu, client):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=2, talk_seconds=None)
    ready("agent2")
    client.force_login(agent1.user)

    assert client.post("/agent/call/transfer", {"agent": "nobody"}).status_code == 400
    assert client.post("/agent/call/transfer", {"agent": "agent1"}).status_code == 409
    response = client.post("/agent/call/transfer", {"agent": "agent2"})
    assert response.json() == {"transferred": "agent", "agent": "agent2", "ringing": True}
    run(emu, 8)
    assert Transfer.objects.get().connected
    assert Agent.objects.get(identity="agent2").status == AgentStatus.ON_CALL
