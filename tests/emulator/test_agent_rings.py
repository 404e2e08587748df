"""Calls created through the REST API to an agent's softphone (client:<identity>): ringing every
device of the identity, answer / reject / no answer / cancel, status callbacks asked for."""

import pytest
from twilio.rest import Client

from emulator.server import LocalTwilio
from telephony.client import RebasedHttpClient
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator.hooks import Hooks
from tests.emulator.test_server_devices import API_KEY_SECRET, API_KEY_SID, APP_SID, call, token
from tests.emulator.urls_conference import DOCS, HITS, hits

EVENTS = ["initiated", "ringing", "answered", "completed"]


# --- in process: scripted agents ------------------------------------------------------------------
@pytest.fixture
def docs():
    DOCS.clear()
    HITS.clear()
    DOCS["offer"] = "<Response><Say>You have a caller.</Say></Response>"
    yield
    DOCS.clear()
    HITS.clear()


def _ring(rest, **kwargs):
    return rest.calls.create(
        to="client:agent1",
        from_="+815012345678",
        url="http://testserver/c/offer",
        status_callback="http://testserver/c/status",
        **kwargs,
    )


@pytest.mark.urls("tests.emulator.urls_conference")
def test_an_agent_who_answers_after_7_seconds_fetches_the_url_only_then(emu, rest, docs):
    emu.add_agent("agent1", answer_after=7, talk_seconds=None)
    created = _ring(rest, status_callback_event=EVENTS, timeout=20)
    emu.run()

    leg = emu.call_by_sid(created.sid)
    [(at, _, url, fields)] = [r for r in leg.requests if r[2].endswith("/c/offer")]
    assert (at, fields["CallStatus"]) == (7, "in-progress")
    statuses = [(f["CallStatus"], f["SequenceNumber"]) for f in hits("status")]
    assert statuses == [
        ("initiated", "0"),
        ("ringing", "1"),
        ("in-progress", "2"),
        ("completed", "3"),
    ]


@pytest.mark.urls("tests.emulator.urls_conference")
@pytest.mark.parametrize(
    ("on_ring", "final", "ended_at"), [("reject", "busy", 4), ("ignore", "no-answer", 15)]
)
def test_an_agent_who_rejects_or_ignores_ends_the_call_busy_or_unanswered(
    emu, rest, docs, on_ring, final, ended_at
):
    emu.add_agent("agent1", answer_after=4, on_ring=on_ring)
    created = _ring(rest, timeout=15)  # only `completed` asked for (the default)
    emu.run()

    leg = emu.call_by_sid(created.sid)
    assert (leg.status, leg.ended_at) == (final, ended_at)
    assert hits("offer") == []
    assert [f["CallStatus"] for f in hits("status")] == [final]


@pytest.mark.urls("tests.emulator.urls_conference")
def test_canceling_a_ringing_call_ends_it_canceled(emu, rest, docs):
    emu.add_agent("agent1", on_ring="ignore")
    created = _ring(rest, status_callback_event=["ringing", "completed"])
    emu.run(until=3)
    rest.calls(created.sid).update(status="canceled")
    emu.run()

    assert [f["CallStatus"] for f in hits("status")] == ["ringing", "canceled"]
    assert hits("offer") == []


# --- over HTTP: the emulated softphone's devices ------------------------------------------------
@pytest.fixture
def hooks():
    with Hooks() as running:
        yield running


@pytest.fixture
def twilio(hooks):
    local = LocalTwilio(
        app_url=hooks.url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_key_sid=API_KEY_SID,
        api_key_secret=API_KEY_SECRET,
        twiml_app_sid=APP_SID,
        calls_per_second=None,
    ).serve("127.0.0.1", 0)
    yield local
    local.stop()


def _events(twilio, device, wait=5):
    _, body = call(twilio, "GET", f"/emulator/devices/{device}/events?wait={wait}")
    return [(event["type"], event["call"]) for event in body["events"]]


def _device(twilio):
    status, device = call(twilio, "POST", "/emulator/devices", {"token": token()})
    assert status == 201
    return device["id"]


def test_every_tab_rings_and_another_tab_keeps_ringing_after_one_accepts(twilio, hooks):
    first, second = _device(twilio), _device(twilio)
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url))
    hooks.docs["/offer"] = '<Response><Pause length="2"/></Response>'
    created = rest.calls.create(
        to="client:agent1",
        from_="+815012345678",
        url=hooks.url + "/offer",
        status_callback=hooks.url + "/status",
        status_callback_event=EVENTS,
    )
    assert _events(twilio, first) == [("incoming", created.sid)]
    assert _events(twilio, second) == [("incoming", created.sid)]
    assert hooks.to("/offer") == []  # nothing is fetched before an answer

    status, _ = call(twilio, "POST", f"/emulator/devices/{first}/calls/{created.sid}/accept")
    assert status == 200
    hooks.wait_for(lambda: hooks.to("/offer"))
    assert _events(twilio, second, wait=0.5) == []  # still ringing there
    hooks.wait_for(lambda: any(f["CallStatus"] == "completed" for f in hooks.to("/status")))

    assert [f["CallStatus"] for f in hooks.to("/status")] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert ("cancel", created.sid) in _events(twilio, second)
    assert call(twilio, "POST", f"/emulator/devices/{second}/calls/{created.sid}/accept")[0] == 409


def test_a_ring_canceled_by_the_app_cancels_the_device_and_reports_canceled(twilio, hooks):
    device = _device(twilio)
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url))
    created = rest.calls.create(
        to="client:agent1",
        from_="+815012345678",
        url=hooks.url + "/offer",
        status_callback=hooks.url + "/status",
    )
    assert _events(twilio, device) == [("incoming", created.sid)]

    rest.calls(created.sid).update(status="canceled")
    assert _events(twilio, device) == [("cancel", created.sid)]
    hooks.wait_for(lambda: hooks.to("/status"))

    assert [f["CallStatus"] for f in hooks.to("/status")] == ["canceled"]
    assert rest.calls(created.sid).fetch().status == "canceled"
    assert hooks.to("/offer") == []


def test_an_unanswered_ring_times_out_no_answer(twilio, hooks):
    device = _device(twilio)
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url))
    created = rest.calls.create(
        to="client:agent1",
        from_="+815012345678",
        url=hooks.url + "/offer",
        timeout=1,
        status_callback=hooks.url + "/status",
    )
    assert _events(twilio, device) == [("incoming", created.sid)]
    assert _events(twilio, device) == [("cancel", created.sid)]
    hooks.wait_for(lambda: hooks.to("/status"))

    assert [f["CallStatus"] for f in hooks.to("/status")] == ["no-answer"]
