"""A three-way call with an outside number on agent1's real desk, through the local Twilio over
HTTP and its emulated softphone, with a background worker running: agent1 adds 03-1234-5678,
the desk lists the three of them and the local Twilio's conference has everyone hearing
everyone; agent1 drops the caller from the desk, and agent1 and the number go on talking."""

import time

import pytest
from playwright.sync_api import expect

from routing.models import Bridge, Transfer, TransferKind

from . import test_browser_push
from .test_browser_push import CALLER_NUMBER, DEMO_NUMBER, WAIT, agent1_accepts_a_caller, conference

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

local_twilio = test_browser_push.local_twilio  # the local Twilio over HTTP, the demo seeded
worker = test_browser_push.worker  # manage.py worker's loop in a thread

OUTSIDE = "+81312345678"


def _wait_for(predicate, tries=80):
    for _attempt in range(tries):
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("never happened")


def test_agent1_adds_a_number_then_drops_the_caller_from_the_desk(
    browser, live_server, local_twilio, worker, settings
):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    phone, desk, call = agent1_accepts_a_caller(
        browser, live_server, local_twilio, desk_height=1000
    )

    bridge = _wait_for(lambda: Bridge.objects.first())
    _wait_for(lambda: len(conference(local_twilio, bridge.friendly_name)["participants"]) == 2)

    desk.fill("#add-number", "03-1234-5678")
    desk.click("#add-number-btn")
    parties = desk.locator("#call-parties .party")
    expect(parties).to_have_count(3, timeout=WAIT)
    expect(desk.locator("#call-parties .party[data-state='connected']")).to_have_count(
        3, timeout=WAIT
    )
    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.to_number) == (TransferKind.THREE_WAY_NUMBER, OUTSIDE)
    state = conference(local_twilio, bridge.friendly_name)
    hears = {p["call_sid"]: set(p["hears"]) for p in state["participants"]}
    assert len(hears) == 3
    assert all(heard == set(hears) - {sid} for sid, heard in hears.items())

    caller_row = desk.locator("#call-parties .party", has_text=CALLER_NUMBER)
    caller_row.locator(".party-drop").click()
    expect(parties).to_have_count(2, timeout=WAIT)
    expect(desk.locator("#parties-box")).to_be_hidden()
    expect(call.locator(".state")).to_have_attribute("data-state", "ended", timeout=WAIT)
    state = _wait_for(
        lambda: (
            (s := conference(local_twilio, bridge.friendly_name))
            and len(s["participants"]) == 2
            and s
        )
    )
    agent_sid = bridge.offer.agent_call_sid
    [outside] = [p for p in state["participants"] if p["call_sid"] != agent_sid]
    assert outside["hears"] == [agent_sid]
    expect(desk.locator("#call-panel")).to_be_visible()

    desk.click("#hangup-btn")
    expect(desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    _wait_for(lambda: Bridge.objects.get(pk=bridge.pk).ended_at is not None)
