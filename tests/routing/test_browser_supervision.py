"""Supervision and recording in real browsers, through the local Twilio over HTTP and its
emulated softphones, with a background worker running, the demo data as `make run` seeds it.

The supervisor works in a browser context of their own: the Softphone page (their emulated
softphone) in one tab, the team view in another; agent1 in another context takes the caller
from the phone page. The team view follows agent1's call by itself (caller, queue, duration,
hold); the supervisor listens, whispers, barges and leaves, and the local Twilio's conference
says who hears whom after each click. On a queue that records answered calls, the desk shows
the recording and pauses and resumes it (the local Twilio's recording follows)."""

import re
import time

import pytest
from playwright.sync_api import expect
from twilio.rest import Client as TwilioRestClient

from agents.models import Agent, AgentStatus
from queues.models import Queue
from routing.models import Bridge, Monitoring, Recording
from telephony.client import RebasedHttpClient
from tests.conftest import browser_login, save_screenshot

from . import test_browser_push
from .test_browser_control import conference
from .test_browser_push import (
    CALLER_NUMBER,
    DEMO_NUMBER,
    WAIT,
    a_caller_presses_1_and_the_desk_accepts,
)
from .test_supervision_over_http import conference_started

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

local_twilio = test_browser_push.local_twilio  # the local Twilio over HTTP, the demo seeded
worker = test_browser_push.worker  # manage.py worker's loop in a thread


def until(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def hears(twilio, name) -> dict[str, set[str]]:
    """call SID → the SIDs it hears, for the participants in the conference now."""
    return {p["call_sid"]: set(p["hears"]) for p in conference(twilio, name)["participants"]}


def _desk(browser, live_server, username, locale="en-US"):
    page = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    browser_login(page, live_server, username, "pw-demo")
    page.goto(f"{live_server.url}/agent/")
    expect(page.locator("#device-state")).to_have_attribute(
        "data-state", "registered", timeout=WAIT
    )
    return page


def _caller_meets_agent1(browser, twilio, desk):
    """A caller from the phone page presses 1; agent1 (available) accepts the pushed call.
    → the caller's row on the phone page and the bridge, once both are in the conference."""
    phone, call = a_caller_presses_1_and_the_desk_accepts(browser, twilio, desk)
    bridge = until(lambda: Bridge.objects.first(), "the bridge")
    name = bridge.friendly_name
    until(
        lambda: (
            conference_started(twilio, name) and len(conference(twilio, name)["participants"]) == 2
        ),
        "both in the conference",
    )
    return call, bridge


def test_the_supervisor_follows_agent1s_call_then_listens_whispers_barges_and_leaves(
    browser, live_server, local_twilio, worker, settings
):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    desk = _desk(browser, live_server, "agent1")
    supervisor_desk = _desk(browser, live_server, "supervisor")  # their softphone, kept open
    team = supervisor_desk.context.new_page()
    team.set_default_timeout(20_000)
    team.goto(f"{live_server.url}/supervisor/team/")
    row = team.locator("tr[data-agent=agent1]")
    expect(row.locator("[data-field=status]")).to_have_text("offline")
    expect(row.locator("[data-field=phone_number]")).to_have_text("")

    call, bridge = _caller_meets_agent1(browser, local_twilio, desk)
    caller_sid = call.get_attribute("data-sid")
    # No consultation yet and a queue that does not record: neither set of controls shows.
    expect(desk.locator("#hold-btn")).to_be_visible()
    expect(desk.locator("#consult-btn")).to_be_visible()
    expect(desk.locator("#consult-controls")).to_be_hidden()
    expect(desk.locator("#recording-line")).to_be_hidden()
    agent_sid = bridge.offer.agent_call_sid
    name = bridge.friendly_name

    # The team view redraws itself: agent1 on a call, with the caller, queue and duration.
    expect(row.locator("[data-field=status]")).to_have_text("on call", timeout=WAIT)
    expect(row.locator("[data-field=phone_number]")).to_have_text(CALLER_NUMBER)
    expect(row.locator("[data-field=queue]")).to_have_text("サポート")
    expect(row.locator("[data-field=on_hold]")).to_have_text("talking")
    expect(row.locator("[data-field=duration_seconds]")).to_have_text(re.compile(r"^0:\d\d$"))
    first = row.locator("[data-field=duration_seconds]").text_content()
    expect(row.locator("[data-field=duration_seconds]")).not_to_have_text(first, timeout=WAIT)

    # agent1 holds the caller: the team view says so, then talking again after Resume.
    desk.click("#hold-btn")
    expect(desk.locator("#hold-state")).to_be_visible()
    expect(row.locator("[data-field=on_hold]")).to_have_text("on hold", timeout=WAIT)
    desk.click("#hold-btn")
    expect(desk.locator("#hold-state")).to_be_hidden()
    expect(row.locator("[data-field=on_hold]")).to_have_text("talking", timeout=WAIT)

    # Listen: the supervisor's softphone rings; they accept; they hear both, nobody hears them.
    row.locator("button[data-mode=listen]").click()
    session = team.locator("#team-session")
    expect(session).to_be_visible()
    expect(team.locator("#team-session-agent")).to_have_text("agent1")
    expect(team.locator("#team-message")).to_have_text("Answer the call on your softphone.")
    expect(supervisor_desk.locator("#incoming")).to_be_visible(timeout=WAIT)
    supervisor_desk.click("#accept-btn")
    expect(supervisor_desk.locator("#call-panel")).to_be_visible(timeout=WAIT)
    sup_sid = until(lambda: Monitoring.objects.get().call_sid, "the supervisor's leg")
    until(lambda: sup_sid in hears(local_twilio, name), "the supervisor in the conference")
    state = hears(local_twilio, name)
    assert state[sup_sid] == {caller_sid, agent_sid}
    assert state[caller_sid] == {agent_sid} and state[agent_sid] == {caller_sid}
    expect(session.locator("[data-mode=listen]")).to_have_class(re.compile(r"\bactive\b"))
    expect(team.locator("#team-message")).to_be_hidden(timeout=WAIT)  # answered: said no more
    expect(row.locator("[data-field=duration_seconds]")).to_have_text(re.compile(r"^0:\d\d$"))
    save_screenshot(team, "supervisor-team-monitoring.png", full_page=True)

    # Whisper: agent1 hears the supervisor, the caller does not.
    session.locator("[data-mode=whisper]").click()
    expect(session.locator("[data-mode=whisper]")).to_have_class(re.compile(r"\bactive\b"))
    state = hears(local_twilio, name)
    assert state[agent_sid] == {caller_sid, sup_sid}
    assert state[caller_sid] == {agent_sid}
    assert state[sup_sid] == {caller_sid, agent_sid}

    # Barge: everyone hears everyone.
    session.locator("[data-mode=barge]").click()
    expect(session.locator("[data-mode=barge]")).to_have_class(re.compile(r"\bactive\b"))
    state = hears(local_twilio, name)
    assert state[caller_sid] == {agent_sid, sup_sid}
    assert state[agent_sid] == {caller_sid, sup_sid}

    # Leave: the supervisor's softphone call ends; the caller and agent1 go on talking.
    team.click("#team-leave")
    expect(session).to_be_hidden()
    expect(supervisor_desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    until(lambda: sup_sid not in hears(local_twilio, name), "the supervisor gone")
    assert hears(local_twilio, name) == {caller_sid: {agent_sid}, agent_sid: {caller_sid}}
    assert conference(local_twilio, name)["status"] == "in-progress"
    expect(desk.locator("#call-panel")).to_be_visible()
    expect(call.locator(".state")).to_have_attribute("data-state", "connected")
    expect(row.locator("[data-field=status]")).to_have_text("on call")
    monitoring = Monitoring.objects.get()
    assert [change["mode"] for change in monitoring.mode_changes] == ["listen", "whisper", "barge"]
    assert monitoring.ended_at is not None

    desk.click("#hangup-btn")
    expect(desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    expect(call.locator(".state")).to_have_attribute("data-state", "ended", timeout=WAIT)
    expect(row.locator("[data-field=phone_number]")).to_have_text("", timeout=WAIT)


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_the_desk_shows_the_recording_and_pauses_and_resumes_it(
    browser, live_server, local_twilio, worker, settings, locale
):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    Queue.objects.filter(slug="support").update(record_answered_calls=True)
    desk = _desk(browser, live_server, "agent1", locale)
    english = locale == "en-US"
    badge = desk.locator("#recording-state")

    call, bridge = _caller_meets_agent1(browser, local_twilio, desk)
    expect(desk.locator("#recording-line")).to_be_visible(timeout=WAIT)
    expect(badge).to_have_attribute("data-state", "recording")
    recording = Recording.objects.get(bridge=bridge)
    rest = TwilioRestClient(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=RebasedHttpClient(local_twilio.url, timeout=10),
    )
    twilio_recording = rest.calls(recording.call_sid).recordings(recording.sid)
    assert twilio_recording.fetch().status == "in-progress"
    if english:
        expect(badge).to_have_text("recording")
        expect(desk.locator("#recording-btn")).to_have_text("Pause recording")
    for control in ("#hold-btn", "#transfer-btn", "#transfer-agent-btn", "#consult-btn"):
        expect(desk.locator(control)).to_be_visible()
    expect(desk.locator("#consult-controls")).to_be_hidden()  # no consultation yet
    expect(desk.locator("#pop-number")).to_have_text(CALLER_NUMBER, timeout=WAIT)
    name = "agent-desk-call-controls.png" if english else "agent-desk-call-controls-ja.png"
    save_screenshot(desk, name, full_page=True, japanese=False)

    desk.click("#recording-btn")
    expect(badge).to_have_attribute("data-state", "paused")
    if english:
        expect(badge).to_have_text("recording paused")
        expect(desk.locator("#recording-btn")).to_have_text("Resume recording")
    assert twilio_recording.fetch().status == "paused"
    assert Recording.objects.get(pk=recording.pk).paused is True

    desk.click("#recording-btn")
    expect(badge).to_have_attribute("data-state", "recording")
    assert twilio_recording.fetch().status == "in-progress"
    recording.refresh_from_db()
    assert recording.paused is False
    assert [pause["status"] for pause in recording.pauses] == ["paused", "in-progress"]
    assert Agent.objects.get(identity="agent1").status == AgentStatus.ON_CALL

    desk.click("#hangup-btn")
    expect(desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    expect(desk.locator("#recording-line")).to_be_hidden()
    expect(call.locator(".state")).to_have_attribute("data-state", "ended", timeout=WAIT)
