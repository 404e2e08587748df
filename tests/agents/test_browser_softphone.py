"""The softphone in headless Chromium, with a fake Twilio.Device in place of the SDK.

The fake is injected before any page script runs; the vendored SDK keeps an existing
``Twilio.Device``, so the page drives the fake exactly as it would drive the real one. Twilio's
side of each call is played by signed webhooks posted to the live server.
"""

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from agents.models import Agent, AgentStatus, ContactNote, Customer, Disposition, QueueMembership
from agents.roles import AGENTS
from agents.services import contact_note_create
from ivr import demo as ivr_demo
from queues.models import Queue, QueueMessages
from telephony.twiml import APOLOGY_EN
from tests.conftest import browser_login, call_fields, save_screenshot, wait_for_js

from .conftest import QUEUE_SID

# serialized_rollback: the data migrations' rows come back for the tests that run after.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_NUMBER = "+815012345678"
AGENT_LEG = "CA" + "a" * 32
CALLER_NUMBER = "+819011112222"

# Emits registered / incoming / disconnect like the SDK's Device and Call; see the file.
FAKE_DEVICE = (Path(__file__).parent / "fake_twilio_device.js").read_text()


@pytest.fixture
def desk(db, django_user_model, settings):
    settings.TWILIO_API_KEY_SID = "SK" + "1" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-tests-0123456789abcdef"
    settings.TWILIO_TWIML_APP_SID = "AP" + "2" * 32
    # English data: Debian's headless Chromium here has no Japanese fonts for the screenshots.
    queue = Queue.objects.create(slug="support", name="Support")
    QueueMessages.objects.create(queue=queue, connect_message="オペレータにおつなぎします。")
    ivr_demo.seed(SimpleNamespace(stdout=io.StringIO()))  # the menu on DEMO_NUMBER
    user = django_user_model.objects.create_user(username="agent1", password="pw-agent1")
    user.groups.add(Group.objects.get(name=AGENTS))
    agent = Agent.objects.create(user=user, identity="agent1")
    QueueMembership.objects.create(agent=agent, queue=queue)
    Disposition.objects.create(name="Resolved", position=1)
    Disposition.objects.create(name="Call back", position=2)
    customer = Customer.objects.create(
        phone_number=CALLER_NUMBER, name="Yamada Taro", company="Yamada Shoten"
    )
    contact_note_create(
        agent=agent,
        now=datetime(2026, 10, 30, 1, 0, tzinfo=UTC),
        customer=customer,
        text="Asked for the invoice again.",
        disposition=Disposition.objects.get(name="Resolved"),
    )
    return agent


def post(twilio, live_server, path, fields):
    """Post a signed webhook as Twilio would (from this thread, with its own database connection:
    the live server's threads have theirs)."""
    host = live_server.url.split("//", 1)[1]
    response = twilio.post(path, fields, host=host)
    assert response.status_code == 200, response.content
    assert APOLOGY_EN.encode() not in response.content, response.content
    return response


def open_desk(page, live_server):
    page.add_init_script(FAKE_DEVICE)
    browser_login(page, live_server, "agent1", "pw-agent1")
    expect(page).to_have_url(f"{live_server.url}/agent/")
    expect(page.locator("#device-state")).to_have_attribute("data-state", "registered")


def caller_waits(settings):
    """A caller dials the demo number, presses 1 in the menu and waits in support.

    Played by the emulator before the page opens, so it never races the page's polling.
    Returns the caller's CallSid.
    """
    from emulator import Caller
    from tests.factories import emulator

    emu = emulator(number=DEMO_NUMBER, status_callback=None, fallback=False, agent_url=None)
    call = emu.place_call(to=DEMO_NUMBER, from_=CALLER_NUMBER, caller=Caller(digits=["1"]), at=0)
    emu.run(until=30)
    return call.sid


def take_next_caller(page, live_server, twilio, caller):
    """Click "take next caller"; Twilio runs the app's TwiML and bridges the front caller."""
    page.locator("#queues tr[data-queue=support] button.take-next").click()
    wait_for_js(page, "window.__fake.calls.length === 1")
    assert page.evaluate("window.__fake.last().params") == {"To": "queue:support"}
    post(
        twilio,
        live_server,
        "/twilio/agent/outgoing",
        call_fields(AGENT_LEG, From="client:agent1", To="queue:support"),
    )
    post(
        twilio,
        live_server,
        "/twilio/queues/support/connect",
        call_fields(
            caller,
            From=CALLER_NUMBER,
            To=DEMO_NUMBER,
            CallStatus="in-progress",
            QueueTime="42",
            DequeingCallSid=AGENT_LEG,
            QueueSid=QUEUE_SID,
        ),
    )
    page.evaluate(f"window.__fake.answer({{CallSid: '{AGENT_LEG}', From: 'client:agent1'}})")


def talk_recorded(twilio, live_server, caller, seconds=95):
    post(
        twilio,
        live_server,
        "/twilio/queues/support/dial-action",
        call_fields(
            AGENT_LEG,
            From="client:agent1",
            To="queue:support",
            CallStatus="in-progress",
            DialCallStatus="completed",
            DialCallSid=caller,
            DialCallDuration=str(seconds),
            QueueSid=QUEUE_SID,
        ),
    )


def go_available(page):
    page.select_option("#status-select", "available")
    expect(page.locator("#status-label")).to_have_attribute("data-status", "available")


def test_an_agent_takes_the_next_caller_and_ends_available(
    page, live_server, twilio, desk, settings
):
    caller = caller_waits(settings)
    open_desk(page, live_server)

    go_available(page)
    expect(page.locator("#queues tr[data-queue=support] .waiting")).to_have_text("1")
    save_screenshot(page, "agent-desk-available.png", full_page=True)

    take_next_caller(page, live_server, twilio, caller)

    # The screen-pop appears by itself: caller, queue, wait, customer, past notes.
    pop = page.locator("#screen-pop")
    expect(pop).to_be_visible()
    expect(page.locator("#pop-customer-name")).to_have_text("Yamada Taro")
    expect(page.locator("#pop-number")).to_have_text(CALLER_NUMBER)
    expect(page.locator("#pop-queue")).to_have_text("Support")
    expect(page.locator("#pop-wait")).to_have_text("00:42")
    expect(page.locator("#pop-notes")).to_contain_text("Asked for the invoice again.")
    expect(page.locator("#pop-ivr")).to_contain_text("main-menu [1]")
    expect(page.locator("#status-label")).to_have_attribute("data-status", "on-call")

    page.click("#mute-btn")
    expect(page.locator("#mute-btn")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__fake.last().isMuted()") is True
    for digit in "12#":
        page.click(f".dtmf[data-digit='{digit}']")
    assert page.evaluate("window.__fake.last().digits") == "12#"
    expect(page.locator("#dtmf-sent")).to_have_text("12#")

    page.select_option("#note-disposition", label="Call back")
    page.fill("#note-text", "Wants a quote by Friday.")
    page.click("#note-save")
    expect(page.locator("#note-saved")).to_be_visible()
    expect(page.locator("#pop-notes")).to_contain_text("Wants a quote by Friday.")
    # The call timer runs (how far it got depends on the machine's speed, not on the app).
    expect(page.locator("#call-timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(page.locator("#call-timer")).not_to_have_text("00:00")
    save_screenshot(page, "agent-screen-pop.png", full_page=True)
    note = ContactNote.objects.select_related("customer", "disposition", "queue").get(
        text="Wants a quote by Friday."
    )
    assert (note.customer.name, note.disposition.name, note.queue.slug, note.call_sid) == (
        "Yamada Taro",
        "Call back",
        "support",
        caller,
    )

    page.click("#hangup-btn")
    expect(page.locator("#call-panel")).to_be_hidden()
    talk_recorded(twilio, live_server, caller)

    expect(page.locator("#status-label")).to_have_attribute("data-status", "available")
    desk.refresh_from_db()
    assert desk.status == AgentStatus.AVAILABLE
    save_screenshot(page, "agent-after-call.png", full_page=True)


def test_wrap_up_ends_when_the_agent_presses_ready(page, live_server, twilio, desk, settings):
    Queue.objects.filter(slug="support").update(wrap_up_seconds=300)
    caller = caller_waits(settings)
    open_desk(page, live_server)
    go_available(page)

    take_next_caller(page, live_server, twilio, caller)
    expect(page.locator("#pop-customer-name")).to_have_text("Yamada Taro")
    page.click("#hangup-btn")
    talk_recorded(twilio, live_server, caller)

    expect(page.locator("#status-label")).to_have_attribute("data-status", "wrap-up")
    expect(page.locator("#ready-btn")).to_be_visible()
    page.fill("#note-text", "Sent the brochure.")
    page.click("#note-save")
    expect(page.locator("#note-saved")).to_be_visible()
    save_screenshot(page, "agent-wrap-up.png", full_page=True)
    page.click("#ready-btn")

    expect(page.locator("#status-label")).to_have_attribute("data-status", "available")
    expect(page.locator("#ready-btn")).to_be_hidden()
    desk.refresh_from_db()
    assert desk.status == AgentStatus.AVAILABLE


def test_an_agent_accepts_a_pushed_call_and_creates_the_unknown_caller(page, live_server, desk):
    open_desk(page, live_server)

    page.evaluate("window.__fake.incoming({CallSid: 'CA" + "b" * 32 + "', From: '+818099998888'})")

    expect(page.locator("#incoming")).to_be_visible()
    expect(page.locator("#incoming-from")).to_contain_text("+818099998888")
    save_screenshot(page, "agent-incoming.png", full_page=True)
    page.click("#accept-btn")

    expect(page.locator("#call-panel")).to_be_visible()
    expect(page.locator("#incoming")).to_be_hidden()
    expect(page.locator("#pop-number")).to_have_text("+818099998888")
    expect(page.locator("#customer-form")).to_be_visible()
    page.fill("#customer-name", "Sato Hanako")
    page.click("#create-customer-btn")
    expect(page.locator("#pop-customer-name")).to_have_text("Sato Hanako")
    created = Customer.objects.get(phone_number="+818099998888")
    assert created.name == "Sato Hanako"

    page.evaluate("window.__fake.remoteHangup()")
    expect(page.locator("#call-panel")).to_be_hidden()


def test_a_refused_destination_is_explained_and_never_dialled(page, live_server, desk):
    open_desk(page, live_server)

    page.fill("#dial-to", "+1 415 555 0100")
    page.click("#dial-btn")

    expect(page.locator("#messages")).to_contain_text("+14155550100")
    assert page.evaluate("window.__fake.calls.length") == 0


def test_failures_are_explained_in_plain_words(page, live_server, desk):
    open_desk(page, live_server)
    messages = page.locator("#messages")

    page.evaluate("window.__fake.device.emit('error', {code: 31208, message: 'Permission denied'})")
    expect(messages.locator("[data-key=microphone]")).to_contain_text("microphone")

    page.evaluate("window.__fake.device.emit('error', {code: 20104, message: 'Token expired'})")
    expect(messages.locator("[data-key=token]")).to_contain_text("expired")

    page.evaluate("window.__fake.device.emit('unregistered')")
    expect(page.locator("#device-state")).to_have_attribute("data-state", "unregistered")
    expect(messages.locator("[data-key=offline]")).to_contain_text("offline")
    page.locator("#queues button.take-next").click()
    assert page.evaluate("window.__fake.calls.length") == 0

    page.evaluate("window.__fake.device.emit('registered')")
    expect(messages.locator("[data-key=offline]")).to_have_count(0)


def test_the_token_is_renewed_before_it_expires(page, live_server, desk):
    open_desk(page, live_server)

    page.evaluate("window.__fake.device.emit('tokenWillExpire')")

    wait_for_js(page, "window.__fake.device.tokenUpdates === 1")
    assert page.evaluate("window.__fake.device.token").count(".") == 2  # a JWT
