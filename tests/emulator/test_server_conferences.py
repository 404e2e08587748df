"""The local Twilio's Conferences, Participants and Recordings REST, driven with the real
twilio.rest.Client over HTTP, with the scripting API's view of who hears whom."""

import base64
import io
import time
import urllib.error
import urllib.request
import wave

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from emulator import Caller
from emulator.server import LocalTwilio
from telephony.client import RebasedHttpClient
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator.hooks import Hooks
from tests.emulator.test_server_devices import call

NUMBER = "+815012345678"
CUSTOMER = "+819011110001"
AGENT = "+819022220002"
EVENTS = ["start", "end", "join", "leave", "mute", "hold", "modify"]


@pytest.fixture
def hooks():
    with Hooks() as running:
        yield running


def _local(hooks, cps=None):
    local = LocalTwilio(
        app_url=hooks.url,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        numbers=(NUMBER,),
        calls_per_second=cps,
    ).serve("127.0.0.1", 0)
    for number in (CUSTOMER, AGENT, "+819033330003"):
        local.runner.call(local.emulator.add_callee, number, Caller(answer_after=0.2))
    return local


@pytest.fixture
def twilio(hooks):
    local = _local(hooks)
    yield local
    local.stop()


@pytest.fixture
def rest(twilio):
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url, timeout=10))


def until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _two_in_a_room(rest, hooks):
    customer = rest.conferences("room").participants.create(
        from_=NUMBER,
        to=CUSTOMER,
        label="customer",
        conference_status_callback=hooks.url + "/conf",
        conference_status_callback_event=EVENTS,
    )
    agent = rest.conferences("room").participants.create(
        from_=NUMBER, to=AGENT, label="agent", end_conference_on_exit=True, beep="false"
    )
    assert (customer.status, customer.label, customer.call_sid[:2]) == ("queued", "customer", "CA")
    conference_sid = customer.conference_sid
    until(
        lambda: (
            [p.status for p in rest.conferences(conference_sid).participants.list()]
            == ["connected", "connected"]
        )
    )
    return conference_sid, customer, agent


def test_participants_create_places_calls_into_a_conference_named_in_the_path(rest, hooks, twilio):
    conference_sid, customer, agent = _two_in_a_room(rest, hooks)

    [conference] = rest.conferences.list(friendly_name="room", status="in-progress")
    assert (conference.sid, conference.status) == (conference_sid, "in-progress")
    assert conference_sid.startswith("CF")
    fetched = rest.conferences(conference_sid).participants("agent").fetch()
    assert (fetched.call_sid, fetched.end_conference_on_exit, fetched.muted) == (
        agent.call_sid,
        True,
        False,
    )
    by_sid = rest.conferences(conference_sid).participants(customer.call_sid).fetch()
    assert by_sid.label == "customer"
    paged = rest.conferences(conference_sid).participants.list(page_size=1)
    assert sorted(p.call_sid for p in paged) == sorted([customer.call_sid, agent.call_sid])
    status, state = call(twilio, "GET", "/emulator/conferences/room")
    assert status == 200
    assert {p["label"]: p["hears"] for p in state["participants"]} == {
        "customer": [agent.call_sid],
        "agent": [customer.call_sid],
    }
    assert call(twilio, "GET", f"/emulator/conferences/{conference_sid}")[1]["sid"] == (
        conference_sid
    )
    assert call(twilio, "GET", "/emulator/conferences/nowhere")[0] == 404


def test_mute_hold_delete_and_ending_through_the_api(rest, hooks, twilio):
    conference_sid, customer, agent = _two_in_a_room(rest, hooks)
    hooks.docs["/hold"] = "<Response><Say>On hold.</Say></Response>"
    participants = rest.conferences(conference_sid).participants

    muted = participants("customer").update(muted=True)
    assert muted.muted is True
    participants("customer").update(hold=True, hold_url=hooks.url + "/hold", hold_method="POST")
    until(lambda: hooks.to("/hold"))
    _, customer_state = call(twilio, "GET", f"/emulator/calls/{customer.call_sid}")
    _, agent_state = call(twilio, "GET", f"/emulator/calls/{agent.call_sid}")
    assert customer_state["on_hold"] is True and customer_state["connected_to"] == []
    assert agent_state["on_hold"] is False and agent_state["connected_to"] == []
    assert customer_state["conference"]["sid"] == conference_sid
    assert participants("customer").fetch().hold is True
    participants("customer").update(hold=False, muted=False)
    until(lambda: call(twilio, "GET", f"/emulator/calls/{agent.call_sid}")[1]["connected_to"])
    assert call(twilio, "GET", f"/emulator/calls/{agent.call_sid}")[1]["connected_to"] == [
        customer.call_sid
    ]

    participants("customer").delete()
    until(lambda: rest.calls(customer.call_sid).fetch().status == "completed")
    assert [p.label for p in participants.list()] == ["agent"]
    rest.conferences(conference_sid).update(status="completed")
    until(lambda: rest.conferences(conference_sid).fetch().status == "completed")

    ended = rest.conferences(conference_sid).fetch()
    assert ended.reason_conference_ended == "conference-ended-via-api"
    until(lambda: any(f["StatusCallbackEvent"] == "conference-end" for f in hooks.to("/conf")))
    events = [f["StatusCallbackEvent"] for f in hooks.to("/conf")]
    assert events == [
        "participant-join",
        "participant-join",
        "conference-start",
        "participant-mute",
        "participant-hold",
        "participant-unmute",  # one update: mute is applied before hold
        "participant-unhold",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
    assert [int(f["SequenceNumber"]) for f in hooks.to("/conf")] == list(range(1, 11))
    assert participants.list() == []


def _media(twilio, recording_sid, ext=".wav", auth=True):
    url = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}{ext}"
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_call_recording_is_paused_resumed_stopped_and_served_as_a_wav(rest, hooks, twilio):
    _, customer, _ = _two_in_a_room(rest, hooks)
    recordings = rest.calls(customer.call_sid).recordings

    started = recordings.create(
        recording_channels="dual",
        recording_status_callback=hooks.url + "/rec",
        recording_status_callback_event=["in-progress", "completed"],
    )
    assert (started.status, started.channels, started.sid[:2]) == ("in-progress", 2, "RE")
    time.sleep(1.1)
    assert recordings("Twilio.CURRENT").update(status="paused", pause_behavior="skip").status == (
        "paused"
    )
    time.sleep(1.0)
    recordings(started.sid).update(status="in-progress")
    time.sleep(1.1)
    assert recordings("Twilio.CURRENT").update(status="stopped").status == "stopped"
    until(lambda: len(hooks.to("/rec")) == 2)

    in_progress, completed = hooks.to("/rec")
    assert in_progress["RecordingStatus"] == "in-progress"
    assert completed["RecordingStatus"] == "completed"
    assert completed["RecordingDuration"] == "2"  # 3.2 s less the skipped pause
    assert completed["RecordingChannels"] == "2"
    assert completed["RecordingUrl"].startswith(twilio.url + "/2010-04-01/Accounts/")
    fetched = rest.recordings(started.sid).fetch()
    assert (fetched.status, fetched.duration, fetched.call_sid) == (
        "completed",
        "2",
        customer.call_sid,
    )
    assert [r.sid for r in rest.recordings.list(call_sid=customer.call_sid)] == [started.sid]
    status, body = _media(twilio, started.sid)
    assert status == 200
    with wave.open(io.BytesIO(body)) as audio:
        assert (audio.getnchannels(), audio.getframerate()) == (2, 8000)
        assert audio.getnframes() == 2 * 8000
    assert _media(twilio, started.sid, auth=False)[0] == 401
    assert _media(twilio, started.sid, ext=".mp3")[0] == 404
    assert _media(twilio, started.sid, ext="")[0] == 200


def test_rest_errors_and_paging_over_calls_and_conferences(rest, hooks):
    with pytest.raises(TwilioRestException) as no_from:
        rest.conferences("room").participants.create(from_="", to=CUSTOMER)
    with pytest.raises(TwilioRestException) as relative:
        rest.calls.create(to=CUSTOMER, from_=NUMBER, url="/relative")
    with pytest.raises(TwilioRestException) as missing:
        rest.conferences("CF" + "0" * 32).fetch()
    assert (no_from.value.status, no_from.value.code) == (400, 21213)
    assert (relative.value.status, relative.value.code) == (400, 21205)
    assert (missing.value.status, missing.value.code) == (404, 20404)

    for n in range(3):
        rest.conferences(f"room{n}").participants.create(from_=NUMBER, to=CUSTOMER)
    names = [c.friendly_name for c in rest.conferences.list(page_size=2)]
    sids = [c.sid for c in rest.calls.list(page_size=2)]
    assert sorted(names) == ["room0", "room1", "room2"]
    assert len(sids) == len(set(sids)) == 3


def test_participants_create_is_limited_to_one_call_per_second(hooks):
    local = _local(hooks, cps=1)
    try:
        rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(local.url))
        created = [
            rest.conferences("room").participants.create(from_=NUMBER, to=to)
            for to in (CUSTOMER, AGENT, "+819033330003")
        ]
        until(lambda: all(rest.calls(p.call_sid).fetch().status != "queued" for p in created))
        starts = local.runner.call(
            lambda: [local.emulator.call_by_sid(p.call_sid).started_at for p in created]
        )
    finally:
        local.stop()
    assert starts[1] - starts[0] >= 0.99 and starts[2] - starts[1] >= 0.99
