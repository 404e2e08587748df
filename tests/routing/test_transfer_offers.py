"""A colleague rung for a transfer (cold or consult) is rung through an offer, through the local
Twilio in process: the same "one open offer per agent" guards it, so they are never rung for a
transfer and a queue caller at once, and the agent report counts it like any other offer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from emulator import Caller
from reports.forms import DateRange
from reports.metrics import agent_report
from routing.control import CallControlError, call_transfer_to_agent, consult_cancel, consult_start
from routing.models import Offer, OfferOutcome
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def _report_row(emu, identity):
    today = timezone.localdate(emu.datetime_at())
    days = DateRange(today - timedelta(days=1), today + timedelta(days=1))
    rows = agent_report(date_range=days, now=emu.datetime_at())
    return next(r for r in rows if r["agent"] == identity)


@pytest.mark.parametrize(
    ("on_ring", "outcome", "status"),
    [
        ("answer", OfferOutcome.ACCEPTED, AgentStatus.ON_CALL),
        ("reject", OfferOutcome.REJECTED, AgentStatus.AVAILABLE),
        ("ignore", OfferOutcome.MISSED, AgentStatus.MISSED),
    ],
)
def test_a_cold_transfer_rings_agent2_through_an_offer_the_report_counts(
    emu, on_ring, outcome, status
):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=2, talk_seconds=None, on_ring=on_ring)
    agent2 = ready("agent2")
    transfer = call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    [offer] = Offer.objects.filter(transfer=transfer)
    assert offer.agent == agent2 and offer.is_open and offer.agent_call_sid == transfer.call_sid
    run(emu, 40)

    offer.refresh_from_db()
    assert offer.outcome == outcome
    assert Agent.objects.get(pk=agent2.pk).status == status
    row = _report_row(emu, "agent2")
    assert (row["offers"], row["missed"], row["rejected"]) == (
        1,
        int(outcome == OfferOutcome.MISSED),
        int(outcome == OfferOutcome.REJECTED),
    )


def test_agent2_ringing_for_a_transfer_is_not_offered_a_waiting_caller(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=8, talk_seconds=None)
    agent2 = ready("agent2")
    call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    second = emu.place_call(to=DEMO_NUMBER, from_="+819033334444", caller=Caller(digits=["1"]))
    run(emu, 20)

    offers = list(Offer.objects.filter(agent=agent2).values_list("transfer_id", "outcome"))
    assert len(offers) == 1 and offers[0][1] == OfferOutcome.ACCEPTED  # the transfer only
    assert not Offer.objects.filter(visit__call__sid=second.sid, agent=agent2).exists()


def test_a_transfer_to_agent2_while_a_caller_rings_them_is_refused(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", on_ring="ignore")
    agent2 = ready("agent2")
    emu.place_call(to=DEMO_NUMBER, from_="+819033334444", caller=Caller(digits=["1"]))
    for _ in range(60):
        run(emu, 1)
        if Offer.objects.filter(agent=agent2, outcome=OfferOutcome.OPEN).exists():
            break
    with pytest.raises(CallControlError):
        call_transfer_to_agent(agent=agent1, target=agent2, now=emu.datetime_at())
    with pytest.raises(CallControlError):
        consult_start(agent=agent1, target=agent2, now=emu.datetime_at())
    assert not Offer.objects.filter(transfer__isnull=False).exists()


def test_a_consultation_cancelled_while_agent2_rings_withdraws_the_offer(emu):
    agent1, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    emu.add_agent("agent2", answer_after=20, talk_seconds=None)
    agent2 = ready("agent2")
    transfer = consult_start(agent=agent1, target=agent2, now=emu.datetime_at())
    run(emu, 2)
    consult_cancel(agent=agent1, now=emu.datetime_at())
    run(emu, 5)

    assert Offer.objects.get(transfer=transfer).outcome == OfferOutcome.WITHDRAWN
    assert emu.call_by_sid(transfer.call_sid).status == "canceled"
    assert Agent.objects.get(pk=agent2.pk).status == AgentStatus.AVAILABLE
    assert Agent.objects.get(pk=agent1.pk).status == AgentStatus.ON_CALL
    assert _state_hold(conference, leg.sid) is False


def _state_hold(conference, sid):
    [row] = [p for p in conference.state()["participants"] if p["call_sid"] == sid]
    return row["hold"]
