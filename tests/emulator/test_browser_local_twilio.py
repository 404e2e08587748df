"""A whole demo call through the local Twilio: placed from its phone page, answered by agent1 in
the real desk with the emulated softphone, and counted in the queue report. No fake device."""

import io
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from emulator.server import LocalTwilio
from tests.conftest import browser_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_NUMBER = "+815012345678"
CALLER_NUMBER = "+819011112222"
GREETING = "こちらは、サンプルコールセンタです。"
CONNECTING = "オペレータにおつなぎします。"
WAIT = 30_000  # ms: the caller lives on the real clock (a prompt takes seconds)


@pytest.fixture
def local_twilio(live_server, settings, monkeypatch):
    settings.TWILIO_API_KEY_SID = "SK" + "1" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-tests-0123456789abcdef"
    settings.TWILIO_TWIML_APP_SID = "AP" + "2" * 32
    monkeypatch.setenv("DEMO_PASSWORD", "pw-demo")
    call_command("seed_demo", stdout=io.StringIO())
    twilio = LocalTwilio(
        app_url=live_server.url,
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        api_key_sid=settings.TWILIO_API_KEY_SID,
        api_key_secret=settings.TWILIO_API_KEY_SECRET,
        twiml_app_sid=settings.TWILIO_TWIML_APP_SID,
        numbers=(DEMO_NUMBER,),
    ).serve("127.0.0.1", 0)
    settings.TWILIO_API_URL = twilio.url
    yield twilio
    twilio.stop()


def test_a_call_from_the_phone_page_is_answered_at_the_desk_and_reported(
    browser, live_server, local_twilio
):
    phone = browser.new_context(locale="ja-JP").new_page()
    desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    phone.set_default_timeout(20_000)
    desk.set_default_timeout(20_000)

    # agent1 opens the desk: the emulated softphone registers with the app's access token.
    browser_login(desk, live_server, "agent1", "pw-demo")
    expect(desk.locator("#device-state")).to_have_attribute(
        "data-state", "registered", timeout=WAIT
    )

    # A caller dials the demo number from the phone page and presses 1 at the menu.
    phone.goto(local_twilio.url + "/")
    phone.uncheck("#speak")
    expect(phone.locator("#to")).to_have_value(DEMO_NUMBER, timeout=WAIT)
    phone.fill("#from", CALLER_NUMBER)
    phone.click("#call-btn")
    call = phone.locator(".phone-call").first
    expect(call.locator(".heard")).to_contain_text(GREETING, timeout=WAIT)
    expect(call.locator(".state")).to_have_attribute("data-state", "menu", timeout=WAIT)
    call.locator("[data-key='1']").click()
    expect(call.locator(".heard")).to_contain_text(
        "お待たせしております。現在、1番目にお待ちです。", timeout=WAIT
    )
    expect(call.locator(".state")).to_have_attribute("data-state", "queue", timeout=WAIT)

    # The desk sees the caller waiting and takes them: the caller is connected to agent1.
    expect(desk.locator("#queues tr[data-queue=support] .waiting")).to_have_text("1", timeout=WAIT)
    desk.locator("#queues tr[data-queue=support] button.take-next").click()
    expect(desk.locator("#call-panel")).to_be_visible(timeout=WAIT)
    expect(call.locator(".state")).to_have_attribute("data-state", "connected", timeout=WAIT)
    expect(call.locator(".state")).to_contain_text("client:agent1", timeout=WAIT)
    expect(call.locator(".heard")).to_contain_text(CONNECTING, timeout=WAIT)
    expect(desk.locator("#pop-number")).to_have_text(CALLER_NUMBER, timeout=WAIT)
    time.sleep(2)  # they talk

    # agent1 hangs up; the caller's call ends and the visit is in the queue report.
    desk.click("#hangup-btn")
    expect(desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    expect(call.locator(".state")).to_have_attribute("data-state", "ended", timeout=WAIT)
    sid = call.get_attribute("data-sid")
    assert local_twilio.emulator.call_by_sid(sid).status == "completed"

    reports = Client()
    from django.contrib.auth import get_user_model

    reports.force_login(get_user_model().objects.get(username="supervisor"))
    today = timezone.localdate().isoformat()
    rows = []
    for _attempt in range(40):  # the dial action and status callbacks arrive just after
        body = reports.get(
            "/api/reports/queues/", {"start": today, "end": today, "interval": "total"}
        ).json()
        rows = [row for row in body["rows"] if row["queue"] == "support"]
        if rows and rows[0]["answered"] == 1:
            break
        time.sleep(0.25)
    assert (rows[0]["offered"], rows[0]["answered"], rows[0]["abandoned"]) == (1, 1, 0)
    assert rows[0]["aht_seconds"] >= 2
