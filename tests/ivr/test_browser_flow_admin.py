"""In headless Chromium: a supervisor edits a menu in the admin, reads the outline, and tries
the flow by pressing keys; a signed Twilio request then gets the new TwiML at once."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from agents.roles import SUPERVISORS, sync_role_permissions
from ivr.models import MenuOption
from queues.models import Queue, QueueMessages
from tests.conftest import TwilioClient, browser_login, call_fields, save_screenshot
from tests.factories import twiml

from .conftest import import_flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "+815033334444"


@pytest.fixture
def english_flow(db, django_user_model):
    # English wording: Debian's headless Chromium here has no Japanese fonts for screenshots.
    sync_role_permissions()
    user = django_user_model.objects.create_user("boss", password="pw-boss", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISORS))
    queue = Queue.objects.create(slug="sales", name="Sales")
    QueueMessages.objects.create(
        queue=queue, language="en-US", position_message="You are {position}."
    )
    return import_flow(
        [
            {
                "name": "main-menu",
                "kind": "menu",
                "text": "Welcome to Example. For sales press 1, for our opening hours press 2.",
                "timeout": 8,
                "invalid_message": "Sorry, that key is not in the menu.",
                "no_input_message": "We did not hear a key. Connecting you to sales.",
                "no_input_step": "sales-queue",
                "options": [
                    {"key": "1", "target": "to-sales"},
                    {"key": "2", "target": "hours-info"},
                ],
            },
            {
                "name": "to-sales",
                "kind": "say",
                "text": "Connecting you to sales.",
                "next_step": "sales-queue",
            },
            {"name": "sales-queue", "kind": "queue", "queue": "sales"},
            {
                "name": "hours-info",
                "kind": "say",
                "text": "We are open on weekdays from nine to six.",
            },
            {"name": "goodbye", "kind": "hangup", "text": "Thank you for calling. Goodbye."},
        ],
        name="Example support line",
        language="en-US",
        voice="Polly.Joanna",
        number=NUMBER,
    )


def test_a_supervisor_edits_a_menu_then_tries_the_flow(page, live_server, english_flow, client):
    browser_login(page, live_server, "boss", "pw-boss")
    page.goto(f"{live_server.url}/admin/ivr/flow/{english_flow.pk}/change/")

    # Fields follow each step's kind: a queue step shows its queue, not a text to say.
    queue_step = page.locator(".ivr-steps .inline-related").nth(2)
    expect(queue_step.locator(".form-row.field-queue")).to_be_visible()
    expect(queue_step.locator(".form-row.field-text")).to_be_hidden()

    menu = page.locator(".ivr-steps .inline-related").nth(0)
    menu.locator("textarea[name='steps-0-text']").fill(
        "Welcome to Example. For sales press 1, for our opening hours press 2, "
        "to end the call press 9."
    )
    page.locator("#options-group .add-row a").click()
    row = page.locator("#options-group tr.form-row.dynamic-options").last
    row.locator("select[name$='-step']").select_option(label="main-menu")
    row.locator("input[name$='-key']").fill("9")
    row.locator("select[name$='-target']").select_option(label="goodbye")
    save_screenshot(page, "ivr-flow-admin.png", full_page=True)
    page.click("input[name='_continue']")

    expect(page.locator(".messagelist .success")).to_be_visible()
    assert MenuOption.objects.filter(step__name="main-menu", key="9").exists()

    page.click("text=Outline")
    expect(page.locator(".ivr-tree")).to_contain_text("key 9")
    save_screenshot(page, "ivr-flow-outline.png", full_page=True)

    page.click("text=Try this flow")
    expect(page.locator(".ivr-heard").first).to_contain_text("to end the call press 9")
    page.click("button[name='press'][value='7']")
    expect(page.locator(".ivr-heard").nth(1)).to_have_text("Sorry, that key is not in the menu.")
    page.click("button[name='press'][value='9']")
    expect(page.locator(".ivr-transcript")).to_contain_text("Thank you for calling. Goodbye.")
    expect(page.locator(".ivr-try")).to_contain_text("End of the try.")
    save_screenshot(page, "ivr-try-flow.png", full_page=True)

    # A real (signed) call to the number gets the new menu at once.
    root = twiml(TwilioClient(client).post("/twilio/voice/incoming", call_fields(To=NUMBER)))
    assert "press 9" in root.find("Gather/Say").text


def test_an_invalid_key_is_shown_next_to_the_field(page, live_server, english_flow):
    browser_login(page, live_server, "boss", "pw-boss")
    page.goto(f"{live_server.url}/admin/ivr/flow/{english_flow.pk}/change/")

    page.fill("input[name='options-0-key']", "12")
    page.click("input[name='_continue']")

    error = page.locator("#options-group .errorlist")
    expect(error.first).to_contain_text("expects 1 key")
