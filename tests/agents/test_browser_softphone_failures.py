"""The softphone says what is really wrong, in headless Chromium with a fake Twilio.Device, and
tells the app whether it is registered (the wallboard counts only registered agents)."""

import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError
from playwright.sync_api import expect

from agents.models import Agent, AgentStatus, QueueMembership
from agents.roles import AGENTS
from agents.selectors import agent_status_counts
from queues.models import Queue
from tests.conftest import browser_login, save_screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FAKE_DEVICE = (Path(__file__).parent / "fake_twilio_device.js").read_text()
# Credentials but no way to Twilio: registering fails the way the SDK reports a lost signalling
# connection (53000), or says nothing at all.
TWILIO_UNREACHABLE = """
window.Twilio.Device.prototype.register = function () {
  setTimeout(() => this.emit("error", {code: 53000, message: "Signaling connection error"}), 50);
  return new Promise(() => {});
};
"""
TWILIO_SILENT = (
    "window.Twilio.Device.prototype.register = function () { return new Promise(() => {}); };"
)


@pytest.fixture
def credentials(settings):
    settings.TWILIO_API_KEY_SID = "SK" + "1" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-tests-0123456789abcdef"
    settings.TWILIO_TWIML_APP_SID = "AP" + "2" * 32


@pytest.fixture
def agent1(db, django_user_model):
    queue = Queue.objects.create(slug="support", name="Support")
    user = django_user_model.objects.create_user(username="agent1", password="pw-agent1")
    user.groups.add(Group.objects.get(name=AGENTS))
    agent = Agent.objects.create(user=user, identity="agent1", status=AgentStatus.AVAILABLE)
    QueueMembership.objects.create(agent=agent, queue=queue)
    return agent


def open_desk(page, live_server, *scripts):
    for script in scripts:
        page.add_init_script(script)
    browser_login(page, live_server, "agent1", "pw-agent1")
    expect(page).to_have_url(f"{live_server.url}/agent/")
    expect(page.locator("#queues tr[data-queue=support] button.take-next")).to_be_visible()


def available_in_support():
    """The wallboard's count. The live server shares the test's in-memory SQLite connection:
    a query meeting the page's polling mid-way says "table is locked"; a moment later it works."""
    for _attempt in range(20):
        try:
            counts = agent_status_counts()
            return counts[Queue.objects.get(slug="support").id][AgentStatus.AVAILABLE]
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.1)
    raise AssertionError("the database stayed locked")


def eventually_available(page, expected):
    for _attempt in range(50):
        if available_in_support() == expected:
            return
        page.wait_for_timeout(100)
    assert available_in_support() == expected


def test_an_unconfigured_softphone_says_so_and_not_that_the_network_is_down(
    page, live_server, agent1, settings
):
    settings.TWILIO_API_KEY_SID = ""
    open_desk(page, live_server, FAKE_DEVICE)
    badge = page.locator("#device-state")
    expect(badge).to_have_attribute("data-state", "error")
    expect(badge).to_have_text("not configured")

    page.locator("#queues button.take-next").click()

    messages = page.locator("#messages")
    expect(messages).to_contain_text("not configured yet")
    expect(messages).not_to_contain_text("network")
    assert page.evaluate("window.__fake.calls.length") == 0
    save_screenshot(page, "agent-desk-not-configured.png")
    assert available_in_support() == 0


def test_a_softphone_that_cannot_reach_twilio_says_so_and_clicks_answer(
    page, live_server, agent1, credentials
):
    open_desk(page, live_server, FAKE_DEVICE, TWILIO_UNREACHABLE)
    badge = page.locator("#device-state")
    expect(badge).to_have_attribute("data-state", "unreachable")
    expect(badge).to_have_text("not connected")
    page.locator("[data-key=offline] .btn-close").click()

    page.locator("#queues button.take-next").click()

    expect(page.locator("[data-key=offline]")).to_contain_text("cannot reach Twilio")
    assert page.evaluate("window.__fake.calls.length") == 0
    save_screenshot(page, "agent-desk-no-twilio.png")
    assert available_in_support() == 0


def test_a_registration_that_never_answers_ends_in_not_connected(
    page, live_server, agent1, credentials
):
    page.clock.install()
    open_desk(page, live_server, FAKE_DEVICE, TWILIO_SILENT)
    badge = page.locator("#device-state")
    expect(badge).to_have_attribute("data-state", "starting")

    page.locator("#queues button.take-next").click()  # too early: says to wait, calls nobody
    expect(page.locator("[data-key=offline]")).to_contain_text("still connecting")
    page.clock.run_for(16_000)

    expect(badge).to_have_attribute("data-state", "unreachable")
    expect(page.locator("[data-key=offline]")).to_contain_text("cannot reach Twilio")


def test_the_agent_counts_available_only_while_the_softphone_is_registered(
    page, live_server, agent1, credentials
):
    assert available_in_support() == 0  # "available" in the database, no softphone yet
    open_desk(page, live_server, FAKE_DEVICE)
    expect(page.locator("#device-state")).to_have_attribute("data-state", "registered")
    eventually_available(page, 1)

    page.evaluate("window.__fake.device.emit('unregistered')")

    expect(page.locator("#device-state")).to_have_attribute("data-state", "unregistered")
    eventually_available(page, 0)
    expect(page.locator("[data-key=offline]")).to_contain_text("not counted available")
