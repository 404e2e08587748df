"""Push routing seen by agent1 in the real desk, through the local Twilio over HTTP and its
emulated softphone, with a background worker running: the caller from the phone page rings
agent1's desk with the caller shown, agent1 accepts, they talk, agent1 hangs up, the visit is
answered in the queue report."""

import io
import json
import threading
import time
import urllib.request

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from emulator.server import LocalTwilio
from routing.worker import _worker
from tests.conftest import browser_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_NUMBER = "+815012345678"
CALLER_NUMBER = "+819011112222"
CONNECTING = "オペレータにおつなぎします。"
WAIT = 30_000


@pytest.fixture
def local_twilio(live_server, settings, monkeypatch):
    settings.TWILIO_API_KEY_SID = "SK" + "1" * 32
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-for-tests-0123456789abcdef"
    settings.TWILIO_TWIML_APP_SID = "AP" + "2" * 32
    settings.PUBLIC_URL = live_server.url
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


@pytest.fixture
def worker(local_twilio):
    """`manage.py worker`'s loop in a thread of this process (it shares the test's settings)."""
    running = _worker(0.1)

    def run():
        try:
            running.loop()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield running
    running.running = False
    thread.join(timeout=10)


def conference(twilio, name):
    """The local Twilio's conference ``name``: who is in it and who hears whom."""
    with urllib.request.urlopen(f"{twilio.url}/emulator/conferences/{name}") as response:
        return json.loads(response.read())


def agent1_accepts_a_caller(browser, live_server, local_twilio, *, desk_height=900):
    """agent1 logs in, goes available; a caller from the phone page presses 1 and agent1
    accepts the pushed call. → the phone page, the desk and the caller's row on the phone."""
    desk = browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": desk_height}
    ).new_page()
    desk.set_default_timeout(20_000)
    browser_login(desk, live_server, "agent1", "pw-demo")
    expect(desk.locator("#device-state")).to_have_attribute(
        "data-state", "registered", timeout=WAIT
    )
    phone, call = a_caller_presses_1_and_the_desk_accepts(browser, local_twilio, desk)
    return phone, desk, call


def a_caller_presses_1_and_the_desk_accepts(browser, local_twilio, desk):
    """The desk's agent goes available; a caller from the phone page (in Japanese) presses 1
    and the desk accepts the pushed call. → the phone page and the caller's row on it."""
    desk.select_option("#status-select", "available")
    expect(desk.locator("#status-label")).to_have_attribute("data-status", "available")
    phone = browser.new_context(locale="ja-JP").new_page()
    phone.set_default_timeout(20_000)
    phone.goto(local_twilio.url + "/")
    phone.uncheck("#speak")
    expect(phone.locator("#to")).to_have_value(DEMO_NUMBER, timeout=WAIT)
    phone.fill("#from", CALLER_NUMBER)
    phone.click("#call-btn")
    call = phone.locator(".phone-call").first
    expect(call.locator(".state")).to_have_attribute("data-state", "menu", timeout=WAIT)
    call.locator("[data-key='1']").click()
    expect(desk.locator("#incoming-offer")).to_be_visible(timeout=WAIT)
    desk.click("#accept-btn")
    expect(desk.locator("#call-panel")).to_be_visible(timeout=WAIT)
    return phone, call


def test_agent1s_desk_rings_with_the_caller_shown_accepts_talks_and_hangs_up(
    browser, live_server, local_twilio, worker
):
    phone = browser.new_context(locale="ja-JP").new_page()
    desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    phone.set_default_timeout(20_000)
    desk.set_default_timeout(20_000)

    browser_login(desk, live_server, "agent1", "pw-demo")
    expect(desk.locator("#device-state")).to_have_attribute(
        "data-state", "registered", timeout=WAIT
    )
    desk.select_option("#status-select", "available")
    expect(desk.locator("#status-label")).to_have_attribute("data-status", "available")

    phone.goto(local_twilio.url + "/")
    phone.uncheck("#speak")
    expect(phone.locator("#to")).to_have_value(DEMO_NUMBER, timeout=WAIT)
    phone.fill("#from", CALLER_NUMBER)
    phone.click("#call-btn")
    call = phone.locator(".phone-call").first
    expect(call.locator(".state")).to_have_attribute("data-state", "menu", timeout=WAIT)
    call.locator("[data-key='1']").click()

    # Pushed: agent1's softphone rings and shows who is calling before it is answered.
    expect(desk.locator("#incoming")).to_be_visible(timeout=WAIT)
    expect(desk.locator("#incoming-offer")).to_be_visible(timeout=WAIT)
    expect(desk.locator("#offer-queue")).to_have_text("サポート")
    expect(desk.locator("#incoming-from")).to_contain_text(CALLER_NUMBER)
    expect(call.locator(".state")).to_have_attribute("data-state", "queue")  # still waiting

    desk.click("#accept-btn")
    expect(desk.locator("#call-panel")).to_be_visible(timeout=WAIT)
    expect(call.locator(".heard")).to_contain_text(CONNECTING, timeout=WAIT)
    expect(desk.locator("#pop-number")).to_have_text(CALLER_NUMBER, timeout=WAIT)
    time.sleep(2)  # they talk

    desk.click("#hangup-btn")
    expect(desk.locator("#call-panel")).to_be_hidden(timeout=WAIT)
    expect(call.locator(".state")).to_have_attribute("data-state", "ended", timeout=WAIT)

    reports = Client()
    from django.contrib.auth import get_user_model

    reports.force_login(get_user_model().objects.get(username="supervisor"))
    today = timezone.localdate().isoformat()
    rows = []
    for _attempt in range(40):
        body = reports.get(
            "/api/reports/queues/", {"start": today, "end": today, "interval": "total"}
        ).json()
        rows = [row for row in body["rows"] if row["queue"] == "support"]
        if rows and rows[0]["answered"] == 1 and rows[0]["aht_seconds"]:
            break
        time.sleep(0.25)
    assert (rows[0]["offered"], rows[0]["answered"], rows[0]["overflowed"]) == (1, 1, 0)
    assert rows[0]["aht_seconds"] >= 2
    agents = reports.get("/api/reports/agents/", {"start": today, "end": today}).json()["rows"]
    [agent1] = [row for row in agents if row["agent"] == "agent1"]
    assert (agent1["offers"], agent1["missed"], agent1["answered"]) == (1, 0, 1)
