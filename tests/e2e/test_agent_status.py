"""Agents' presence follows emulated calls end to end, through the real softphone TwiML App.

Callers go straight into queue ``support`` (the queues app's test flow); agents dial out
through the real ``/twilio/agent/outgoing``, as the browser softphone does.
"""

import pytest

from agents.models import AgentStatus, AgentStatusInterval, QueueMembership
from agents.outgoing import REFUSAL_EN
from agents.selectors import agent_status_counts
from queues.models import QueueVisit

from .queue_urls import NUMBER

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]


CALLER_NUMBER = "+819011112222"


def statuses(agent):
    return list(
        AgentStatusInterval.objects.filter(agent=agent)
        .order_by("started_at", "id")
        .values_list("status", flat=True)
    )


def test_an_agent_goes_on_call_and_back_to_available(emu, agent1):
    from emulator import Caller

    emu.place_call(to=NUMBER, from_=CALLER_NUMBER, caller=Caller(), at=0)
    emu.agent_dial("agent1", to="queue:support", at=30, talk_seconds=60)

    emu.run(until=60)
    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.ON_CALL
    emu.run()

    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.AVAILABLE
    assert statuses(agent1) == ["available", "on-call", "available"]
    visit = QueueVisit.objects.get()
    assert (visit.agent_identity, visit.talk_seconds, visit.wrap_up_seconds) == ("agent1", 60, 0)
    assert [row["agent"] for row in emu.ground_truth()] == ["agent1"]


def test_an_agent_stays_in_wrap_up_after_a_call_from_a_wrap_up_queue(emu, agent1, support):
    from emulator import Caller

    support.wrap_up_seconds = 120
    support.save(update_fields=["wrap_up_seconds"])
    emu.place_call(to=NUMBER, from_=CALLER_NUMBER, caller=Caller(talk_seconds=30), at=0)
    emu.agent_dial("agent1", to="queue:support", at=10)

    emu.run()

    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.WRAP_UP
    assert agent_status_counts()[support.id] == {"available": 0, "on-call": 0, "wrap-up": 1}


def test_agents_taking_callers_by_themselves_are_counted_on_call(emu, agent1, support):
    from emulator import Caller

    emu.add_agent("agent1", answer_after=3, talk_seconds=600, takes_queues=("support",))
    emu.place_call(to=NUMBER, from_=CALLER_NUMBER, caller=Caller(), at=0)

    emu.run(until=30)

    assert agent_status_counts()[support.id] == {"available": 0, "on-call": 1, "wrap-up": 0}


def test_a_queue_the_agent_is_not_in_is_refused_and_the_caller_keeps_waiting(emu, agent1, support):
    from emulator import Caller

    QueueMembership.objects.filter(agent=agent1).delete()
    call = emu.place_call(to=NUMBER, from_=CALLER_NUMBER, caller=Caller(patience=40), at=0)
    leg = emu.agent_dial("agent1", to="queue:support", at=10)

    emu.run()

    assert REFUSAL_EN in leg.heard()
    assert QueueVisit.objects.get(call__sid=call.sid).result == "hangup"
    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.AVAILABLE


def test_an_outbound_call_puts_the_agent_on_call_until_it_ends(emu, agent1):
    from emulator import Caller

    emu.add_callee("+81312345678", Caller(answer_after=5, talk_seconds=20))
    emu.agent_dial("agent1", to="+81312345678", at=0)

    emu.run(until=10)
    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.ON_CALL
    emu.run()

    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.AVAILABLE


def test_an_international_number_is_never_dialled(emu, agent1):
    from emulator import Caller

    emu.add_callee("+14155550100", Caller(talk_seconds=20))
    leg = emu.agent_dial("agent1", to="+14155550100", at=0)

    emu.run()

    assert leg.heard() == ["申し訳ございません。この発信はできません。", REFUSAL_EN]
    assert not any(entry.kind == "dial" for entry in leg.transcript)
    agent1.refresh_from_db()
    assert agent1.status == AgentStatus.AVAILABLE
