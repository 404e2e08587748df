"""Hold and cold transfer on agent1's real desk, through the local Twilio over HTTP and its
emulated softphone, with a background worker running: the caller from the phone page is put on
hold (the local Twilio's conference says so), resumed, then transferred to an outside number;
agent1's call ends and agent1 is available again."""

import time

import pytest
from playwright.sync_api import expect

from agents.models import Agent, AgentStatus
from routing.models import Bridge, Hold, Transfer

from . import test_browser_push
from .test_browser_push import CALLER_NUMBER, DEMO_NUMBER, WAIT, agent1_accepts_a_caller, conference

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


local_twilio = test_browser_push.local_twilio  # the local Twilio over HTTP, the demo seeded
worker = test_browser_push.worker  # manage.py worker's loop in a thread


def test_agent1_holds_resumes_and_transfers_the_caller_from_the_desk(
    browser, live_server, local_twilio, worker, settings
):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    phone, desk, call = agent1_accepts_a_caller(browser, live_server, local_twilio, desk_height=900)
    expect(desk.locator("#pop-number")).to_have_text(CALLER_NUMBER, timeout=WAIT)

    bridge = Bridge.objects.get()
    agent_sid = bridge.offer.agent_call_sid
    for _attempt in range(40):  # the caller hears the connect message, then joins
        state = conference(local_twilio, bridge.friendly_name)
        if len(state["participants"]) == 2:
            break
        time.sleep(0.25)

    desk.click("#hold-btn")
    expect(desk.locator("#hold-state")).to_be_visible()
    expect(desk.locator("#hold-btn")).to_have_attribute("aria-pressed", "true")
    state = conference(local_twilio, bridge.friendly_name)
    [caller] = [p for p in state["participants"] if p["call_sid"] != agent_sid]
    assert caller["hold"] is True

    desk.click("#hold-btn")
    expect(desk.locator("#hold-state")).to_be_hidden()
    state = conference(local_twilio, bridge.friendly_name)
    [caller] = [p for p in state["participants"] if p["call_sid"] != agent_sid]
    assert caller["hold"] is False and agent_sid in caller["hears"]
    assert Hold.objects.get().ended_at is not None

    desk.fill("#transfer-number", "03-1234-5678")
    desk.click("#transfer-number-btn")
    expect(desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    assert Transfer.objects.get().to_number == "+81312345678"
    for _attempt in range(40):
        if Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE:
            break
        time.sleep(0.25)
    assert Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE
    expect(call.locator(".state")).not_to_have_attribute("data-state", "ended")
