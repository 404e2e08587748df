"""In headless Chromium: an agent opens the voicemails, calls the caller back through the
softphone (the desk's own "call a number", with its checks), and marks the voicemail handled."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from ivr.models import Voicemail
from tests.conftest import save_screenshot, wait_for_js

from .test_browser_softphone import CALLER_NUMBER, desk, open_desk  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_agent_calls_a_voicemail_back_and_marks_it_handled(page, live_server, desk):  # noqa: F811
    voicemail = Voicemail.objects.create(
        caller=CALLER_NUMBER,
        recording_url="https://api.twilio.com/Recordings/RE1",
        duration_seconds=12,
        received_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
    )
    open_desk(page, live_server)

    page.goto(f"{live_server.url}/voicemails/")
    row = page.locator(f"tr[data-voicemail='{voicemail.pk}']")
    expect(row).to_contain_text("open")
    save_screenshot(page, "voicemails.png", full_page=True)
    row.locator(".voicemail-call-back").click()

    expect(page.locator("#dial-to")).to_have_value(CALLER_NUMBER)
    expect(page.locator("#device-state")).to_have_attribute("data-state", "registered")
    page.click("#dial-btn")
    wait_for_js(page, "window.__fake.calls.length === 1")
    assert page.evaluate("window.__fake.last().params") == {"To": CALLER_NUMBER}
    page.evaluate("window.__fake.remoteHangup()")

    page.goto(f"{live_server.url}/voicemails/")
    page.locator(f"tr[data-voicemail='{voicemail.pk}'] button[value=handled]").click()
    expect(page.locator(".alert-success, .alert-info").first).to_be_visible()
    expect(page.locator(f"tr[data-voicemail='{voicemail.pk}']")).to_have_count(0)  # not open
    page.goto(f"{live_server.url}/voicemails/?show=handled")
    expect(page.locator(f"tr[data-voicemail='{voicemail.pk}']")).to_contain_text(
        "handled by agent1"
    )
    voicemail.refresh_from_db()
    assert voicemail.handled_by.username == "agent1"
