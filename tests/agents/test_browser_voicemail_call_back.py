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


def test_in_japanese_call_back_fills_the_desks_dial_box(browser, live_server, desk, settings):  # noqa: F811
    from .test_browser_softphone import FAKE_DEVICE

    settings.DEBUG = False
    Voicemail.objects.create(
        caller=CALLER_NUMBER,
        recording_url="https://api.twilio.com/Recordings/RE2",
        duration_seconds=30,
        received_at=datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
    )
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.add_init_script(FAKE_DEVICE)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "agent1")
        page.fill("input[name=password]", "pw-agent1")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/voicemails/")
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        save_screenshot(page, "voicemails-ja.png", full_page=True, japanese=False)

        page.locator(".voicemail-call-back").first.click()

        expect(page.locator("#dial-to")).to_have_value(CALLER_NUMBER)
        expect(page.locator("#device-state")).to_have_attribute("data-state", "registered")
        save_screenshot(page, "agent-desk-call-back-ja.png", full_page=True, japanese=False)
    finally:
        context.close()
