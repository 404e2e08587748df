"""Hold and resume from the desk, through the local Twilio in process: the caller is held in
the agent's conference (the emulator says who hears whom), the hold is kept with its seconds,
and the agent report and AHT count it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from emulator import Caller
from queues.models import Queue, QueueVisit
from reports.forms import DateRange
from reports.metrics import agent_report, queue_report
from routing.control import CallControlError, call_hold, call_resume
from routing.models import Bridge, Hold
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def _connected_call(emu, *, talk_seconds=60):
    agent = ready("agent1")
    emu.add_agent("agent1", answer_after=2, talk_seconds=talk_seconds)
    leg = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))
    for _ in range(120):
        run(emu, 1)
        bridge = Bridge.objects.filter(visit__call__sid=leg.sid).first()
        conference = emu.conference_named(bridge.friendly_name) if bridge else None
        if conference is not None and conference.status == "in-progress":
            return agent, leg, bridge, conference
    raise AssertionError("the caller never met the agent")


def _state(conference, call_sid):
    [row] = [p for p in conference.state()["participants"] if p["call_sid"] == call_sid]
    return row


def test_the_held_caller_hears_neither_agent_nor_silence_breaks_and_resume_joins_them(emu):
    agent, leg, bridge, conference = _connected_call(emu)
    agent_sid = bridge.offer.agent_call_sid

    call_hold(agent=agent, now=emu.datetime_at())
    run(emu, 1)
    assert _state(conference, leg.sid)["hold"] is True
    assert agent_sid not in _state(conference, leg.sid)["hears"]
    assert leg.sid not in _state(conference, agent_sid)["hears"]

    run(emu, 10)
    call_resume(agent=agent, now=emu.datetime_at())
    run(emu, 1)
    assert _state(conference, leg.sid)["hold"] is False
    assert agent_sid in _state(conference, leg.sid)["hears"]
    [hold] = Hold.objects.all()
    assert hold.agent == agent and hold.seconds in (10, 11)


def test_hold_counts_in_aht_and_in_the_agent_report(emu):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=40)
    run(emu, 5)
    call_hold(agent=agent, now=emu.datetime_at())
    run(emu, 12)
    call_resume(agent=agent, now=emu.datetime_at())
    run(emu, 90)

    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.talk_seconds == 40
    bridge.refresh_from_db()
    assert bridge.hold_seconds == 12
    today = timezone.localdate(emu.datetime_at())
    days = DateRange(today - timedelta(days=1), today + timedelta(days=1))
    [row] = [
        r for r in agent_report(date_range=days, now=emu.datetime_at()) if r["agent"] == "agent1"
    ]
    assert row["hold_seconds"] == 12
    assert row["aht_seconds"] == 40 + 12  # talk + hold + wrap-up (none)
    support_queue = Queue.objects.get(slug="support")
    rows = queue_report(
        date_range=days, interval="total", queues=[support_queue], now=emu.datetime_at()
    )
    [support] = [r for r in rows if r["answered"]]
    assert support["aht_seconds"] == 40 + 12


def test_a_caller_hanging_up_on_hold_ends_the_hold_and_frees_the_agent(emu):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    call_hold(agent=agent, now=emu.datetime_at())
    run(emu, 8)
    emu.hangup(leg)
    run(emu, 10)

    [hold] = Hold.objects.all()
    assert hold.ended_at is not None and hold.seconds in (8, 9)
    bridge.refresh_from_db()
    assert bridge.ended_at is not None and bridge.hold_seconds == hold.seconds
    assert emu.call_by_sid(bridge.offer.agent_call_sid).status == "completed"
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.AVAILABLE


def test_hold_without_a_call_is_refused_with_a_sentence(emu):
    agent = ready("agent1")
    with pytest.raises(CallControlError):
        call_hold(agent=agent, now=timezone.now())


def test_the_desk_holds_and_resumes_with_csrf_protected_posts(emu, client):
    from django.test import Client

    agent, leg, bridge, conference = _connected_call(emu)
    desk = Client(enforce_csrf_checks=True)
    desk.force_login(agent.user)
    assert desk.post("/agent/call/hold").status_code == 403  # no CSRF token

    desk.get("/agent/")
    token = desk.cookies["csrftoken"].value
    response = desk.post("/agent/call/hold", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert response.json() == {"on_hold": True}
    run(emu, 1)
    assert _state(conference, leg.sid)["hold"] is True
    response = desk.post("/agent/call/resume", HTTP_X_CSRFTOKEN=token)
    assert response.json() == {"on_hold": False}
    run(emu, 1)
    assert _state(conference, leg.sid)["hold"] is False


def test_someone_who_is_not_an_agent_cannot_hold(emu, sup_client):
    assert sup_client.post("/agent/call/hold").status_code == 403
