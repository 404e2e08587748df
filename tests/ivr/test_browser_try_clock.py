"""In headless Chromium: "Try this flow" follows the call on the virtual clock until it ends (a
queue's max wait overflows), and a try "as if" at a chosen date and time says why a business-hours
step chose open, closed or holiday."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from agents.roles import SUPERVISORS, sync_role_permissions
from queues.models import Queue, QueueMessages
from tests.conftest import browser_login

from .conftest import import_flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hours_flow(db, django_user_model):
    sync_role_permissions()
    user = django_user_model.objects.create_user("boss", password="pw-boss", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPERVISORS))
    queue = Queue.objects.create(slug="sales", name="Sales", max_wait_seconds=60)
    QueueMessages.objects.create(
        queue=queue, language="en-US", position_message="You are number {position}."
    )
    return import_flow(
        [
            {
                "name": "office-hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "sales-queue",
                "closed_step": "closed-message",
            },
            {
                "name": "sales-queue",
                "kind": "queue",
                "queue": "sales",
                "next_step": "overflow-message",
            },
            {
                "name": "overflow-message",
                "kind": "say",
                "text": "All our agents are still busy. Please call again later.",
            },
            {"name": "closed-message", "kind": "say", "text": "We are closed now."},
        ],
        name="Hours line",
        schedules=[
            {
                "name": "Office",
                "time_zone": "Asia/Tokyo",
                "ranges": [
                    {"weekday": day, "opens": "09:00", "closes": "18:00"} for day in range(5)
                ],
                "holidays": [{"date": "2026-12-31", "name": "New Year's Eve"}],
            }
        ],
    )


def _try_as_if(page, value):
    page.fill("input[name='at']", value)
    page.click(".ivr-as-if button[type='submit']")


def test_a_try_reaches_the_queue_overflow_and_explains_business_hours(
    page, live_server, hours_flow
):
    browser_login(page, live_server, "boss", "pw-boss")
    page.goto(f"{live_server.url}/admin/ivr/flow/{hours_flow.pk}/try/")

    # Tuesday 1 December 2026, 10:00 in Tokyo (the site's time zone): open.
    _try_as_if(page, "2026-12-01T10:00")
    transcript = page.locator(".ivr-transcript")
    expect(transcript.locator(".ivr-hours-open")).to_contain_text("office-hours: open")
    expect(transcript.locator(".ivr-hours-open")).to_contain_text("09:00–18:00")
    # Nobody answers: after the 60 s max wait the caller leaves the queue and hears the
    # overflow message; the call ends by itself, nobody hung up.
    expect(transcript.locator(".ivr-queue-exit")).to_contain_text("leave")
    expect(transcript).to_contain_text("All our agents are still busy.")
    expect(transcript.locator(".ivr-end")).to_contain_text("the flow hung up")
    expect(transcript.locator(".ivr-end")).not_to_contain_text("caller")
    expect(transcript.locator(".ivr-stopped")).to_have_count(0)
    exit_at = int(transcript.locator(".ivr-queue-exit .ivr-at").inner_text().split()[0])
    assert 60 <= exit_at <= 62

    # The same Tuesday at 19:00: closed, and the transcript says why.
    _try_as_if(page, "2026-12-01T19:00")
    closed = page.locator(".ivr-transcript .ivr-hours-closed")
    expect(closed).to_contain_text("office-hours: closed")
    expect(closed).to_contain_text("Tuesday 2026-12-01 19:00 (Asia/Tokyo)")
    expect(closed).to_contain_text("outside the opening hours of Office")
    expect(page.locator(".ivr-transcript")).to_contain_text("We are closed now.")
    expect(page.locator(".ivr-transcript .ivr-enqueue")).to_have_count(0)

    # New Year's Eve, a Thursday, at 10:00: a holiday.
    _try_as_if(page, "2026-12-31T10:00")
    holiday = page.locator(".ivr-transcript .ivr-hours-holiday")
    expect(holiday).to_contain_text("office-hours: holiday")
    expect(holiday).to_contain_text("2026-12-31")
    expect(page.locator(".ivr-transcript")).to_contain_text("We are closed now.")
    expect(page.locator("input[name='at']")).to_have_value("2026-12-31T10:00")
