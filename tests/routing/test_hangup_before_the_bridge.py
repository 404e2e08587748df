"""Push routing's narrow window: the agent accepted the ring, and the caller hangs up while
still in the queue, before the worker takes them out of it to meet the agent. Twilio's
Enqueue action says QueueResult=hangup: the caller never reached the agent nor heard the
connect message, so the visit is an abandon (its wait the QueueTime), not an answered call
with the agent's lonely seconds as its talk time. Through the local Twilio in process."""

from datetime import timedelta

import pytest

from agents.models import Agent, AgentStatus
from emulator import Caller
from queues.models import Queue, QueueResult, QueueVisit
from reports.forms import DateRange
from reports.metrics import agent_report, queue_report
from routing.models import Offer, OfferOutcome
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def test_a_caller_who_hangs_up_after_the_agent_accepted_but_before_the_bridge_abandoned(emu):
    ready("agent1")
    emu.add_agent("agent1", answer_after=2, talk_seconds=None)
    leg = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))
    for _ in range(30):  # until the caller waits and agent1's softphone rings
        run(emu, 1)
        if Offer.objects.exists():
            break
    emu.run(until=emu.now + 3)  # agent1 accepts; the worker has not moved the caller yet
    assert Offer.objects.get().outcome == OfferOutcome.ACCEPTED
    emu.hangup(leg)  # the caller hangs up in the queue
    run(emu, 20)

    [truth] = emu.ground_truth()
    assert truth["result"] == "hangup"
    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.result == QueueResult.HANGUP
    assert visit.answered_at is None and visit.wait_seconds == truth["wait_seconds"]
    assert Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE

    today = visit.entered_at.date()
    days = DateRange(today - timedelta(days=1), today + timedelta(days=1))
    support = Queue.objects.get(slug="support")
    [row] = queue_report(date_range=days, interval="total", queues=[support], now=emu.datetime_at())
    assert (row["offered"], row["answered"], row["abandoned"]) == (1, 0, 1)
    assert row["aht_seconds"] is None and row["asa_seconds"] is None
    [agent1] = [
        r for r in agent_report(date_range=days, now=emu.datetime_at()) if r["agent"] == "agent1"
    ]
    assert (agent1["answered"], agent1["talk_seconds"], agent1["offers"]) == (0, 0, 1)
