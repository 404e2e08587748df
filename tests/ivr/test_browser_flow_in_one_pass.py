"""In headless Chromium: a supervisor builds a 10-step flow — business hours, a menu, a
sub-menu, a queue with overflow to voicemail — on the "add flow" page and saves it once, then
tries it. Every list of steps offers the steps added on the page ("name (new)") and "New
step…"."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from agents.roles import SUPERVISORS, sync_role_permissions
from ivr.models import BusinessHours, Flow, MenuOption
from queues.models import Queue, QueueMessages
from tests.conftest import browser_login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def supervisor_setup(db, django_user_model):
    sync_role_permissions()
    user = django_user_model.objects.create_user("boss", password="pw-boss", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISORS))
    queue = Queue.objects.create(slug="support", name="Support", max_wait_seconds=60)
    QueueMessages.objects.create(queue=queue, language="en-US", position_message="")
    office = BusinessHours.objects.create(name="Office")
    for weekday in range(5):
        office.ranges.create(weekday=weekday, opens="09:00", closes="18:00")
    return queue, office


def add_step(page, name, kind, text=""):
    page.locator("#steps-group .add-row a").click()
    rows = page.locator(".ivr-steps .inline-related.dynamic-steps")
    row = rows.nth(rows.count() - 1)  # fixed now: .last would follow later rows
    row.locator("input[name$='-name']").fill(name)
    row.locator("select[name$='-kind']").select_option(kind)
    if text:
        row.locator("textarea[name$='-text']").fill(text)
    return row


def choose(row, field, target):
    row.locator(f"select[name$='-{field}']").select_option(f"new:{target}")


def add_key(page, menu, key, target):
    page.locator("#options-group .add-row a").click()
    row = page.locator("#options-group tr.form-row.dynamic-options").last
    row.locator("select[name$='-step']").select_option(f"new:{menu}")
    row.locator("input[name$='-key']").fill(key)
    row.locator("select[name$='-target']").select_option(f"new:{target}")


def test_a_supervisor_builds_a_ten_step_flow_in_one_save_and_tries_it(
    page, live_server, supervisor_setup
):
    queue, office = supervisor_setup
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, live_server, "boss", "pw-boss")
    page.goto(f"{live_server.url}/admin/ivr/flow/add/")
    page.fill("input[name='name']", "Support line")
    page.select_option("select[name='language']", "en-US")

    hours = add_step(page, "hours", "hours")
    hours.locator("select[name$='-schedule']").select_option(label="Office")
    menu = add_step(page, "main-menu", "menu", "For support press 1, for billing press 2.")
    billing = add_step(page, "billing-menu", "menu", "For invoices press 1, for support press 2.")
    to_support = add_step(page, "to-support", "say", "Connecting you to support.")
    support = add_step(page, "support-queue", "queue")
    support.locator("select[name$='-queue']").select_option(label="Support")
    overflow = add_step(page, "overflow-vm", "voicemail", "Everyone is busy. Leave a message.")
    invoices = add_step(page, "invoices", "say", "Invoices are sent on the first of the month.")
    closed = add_step(page, "closed-message", "say", "We are closed now.")
    closed_vm = add_step(page, "closed-vm", "voicemail", "Leave a message after the tone.")

    # "New step…" in a target list adds the step, and the list then points at it.
    overflow.locator("select[name$='-next_step']").select_option("__add_step__")
    goodbye = page.locator(".ivr-steps .inline-related.dynamic-steps").nth(9)
    expect(goodbye.locator("input[name$='-name']")).to_be_focused()
    goodbye.locator("input[name$='-name']").fill("goodbye")
    goodbye.locator("select[name$='-kind']").select_option("hangup")
    goodbye.locator("textarea[name$='-text']").fill("Thank you for calling. Goodbye.")
    expect(overflow.locator("select[name$='-next_step'] option:checked")).to_have_text(
        "goodbye (new)"
    )

    page.select_option("select[name='start_step']", "new:hours")
    choose(hours, "open_step", "main-menu")
    choose(hours, "closed_step", "closed-message")
    choose(menu, "no_input_step", "to-support")
    choose(billing, "no_input_step", "main-menu")
    choose(to_support, "next_step", "support-queue")
    choose(support, "next_step", "overflow-vm")
    choose(invoices, "next_step", "goodbye")
    choose(closed, "next_step", "closed-vm")
    choose(closed_vm, "next_step", "goodbye")
    add_key(page, "main-menu", "1", "to-support")
    add_key(page, "main-menu", "2", "billing-menu")
    add_key(page, "billing-menu", "1", "invoices")
    add_key(page, "billing-menu", "2", "to-support")
    page.locator("#numbers-group .add-row a").click()
    number = page.locator("#numbers-group tr.form-row.dynamic-numbers").last
    number.locator("input[name$='-number']").fill("050-2222-3333")
    number.locator("input[name$='-name']").fill("Support line")
    save_screenshot(page, "ivr-flow-one-pass.png", full_page=True, japanese=False)
    page.click("input[name='_continue']")

    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator(".messagelist .warning")).to_have_count(0)
    flow = Flow.objects.get(name="Support line")
    assert flow.steps.count() == 10
    assert flow.start_step.name == "hours"
    assert MenuOption.objects.filter(flow=flow).count() == 4
    assert flow.numbers.get().number == "+815022223333"

    page.click("text=Try this flow")
    page.fill("input[name='at']", "2026-11-30T10:00")  # a Monday, open
    page.click(".ivr-as-if button[type=submit]")
    expect(page.locator(".ivr-hours-open")).to_be_visible()
    expect(page.locator(".ivr-heard").first).to_contain_text("For support press 1")
    page.click("button[name='press'][value='2']")
    expect(page.locator(".ivr-transcript")).to_contain_text("For invoices press 1")
    page.click("button[name='press'][value='2']")
    # Nobody answers: the caller leaves at the queue's max wait and reaches the voicemail.
    expect(page.locator(".ivr-transcript")).to_contain_text("Connecting you to support.")
    expect(page.locator(".ivr-transcript")).to_contain_text("Everyone is busy. Leave a message.")
    expect(page.locator(".ivr-transcript")).to_contain_text("Thank you for calling. Goodbye.")
    save_screenshot(page, "ivr-try-one-pass.png", full_page=True)
