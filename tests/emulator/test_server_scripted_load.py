"""The local Twilio's scripting API for load tests: devices that answer by themselves, callers
who play a script, and the load report (ground truth, every request and its answer, lateness)."""

import time

from twilio.rest import Client

from telephony.client import RebasedHttpClient
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

from .test_server_devices import call, events, token, twilio  # noqa: F401 - the fixture


def rest(local):
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(local.url))


def wait_for_status(client, sid, wanted, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.calls(sid).fetch().status
        if status == wanted:
            return status
        time.sleep(0.1)
    return client.calls(sid).fetch().status


def test_a_scripted_device_accepts_after_the_ring_and_hangs_up_after_the_talk(twilio):  # noqa: F811
    status, device = call(
        twilio,
        "POST",
        "/emulator/devices",
        {"token": token(), "auto_answer": {"after": 0.5, "talk": 1}},
    )
    assert status == 201
    client = rest(twilio)

    created = client.calls.create(
        to="client:agent1", from_="+815012345678", twiml="<Response><Pause length='30'/></Response>"
    )
    assert client.calls(created.sid).fetch().status == "ringing"
    assert wait_for_status(client, created.sid, "in-progress", 3) == "in-progress"
    assert wait_for_status(client, created.sid, "completed", 3) == "completed"

    seen = events(twilio, device["id"], wait=1)
    assert [kind for kind, _ in seen] == ["incoming", "accept", "disconnect"]
    answered = next(leg for leg in twilio.emulator.calls if leg.sid == created.sid)
    assert 0.4 <= answered.answered_at - answered.created_at <= 1.5
    assert 0.9 <= answered.ended_at - answered.answered_at <= 1.6


def test_a_scripted_device_does_not_answer_a_call_that_stopped_ringing(twilio):  # noqa: F811
    call(twilio, "POST", "/emulator/devices", {"token": token(), "auto_answer": {"after": 2}})
    client = rest(twilio)
    created = client.calls.create(
        to="client:agent1", from_="+815012345678", twiml="<Response/>", timeout=1
    )

    assert wait_for_status(client, created.sid, "no-answer", 4) == "no-answer"


ROOM = "<Response><Dial><Conference>room</Conference></Dial></Response>"


def test_a_scripted_device_talking_from_connected_waits_for_somebody(twilio):  # noqa: F811
    # The app may take longer to bring the caller in than the agent talks: a scripted agent
    # with talk_from "connected" talks `talk` seconds with whoever joins, not from the accept.
    waiting = {"after": 0.2, "talk": 1, "talk_from": "connected"}
    call(twilio, "POST", "/emulator/devices", {"token": token(), "auto_answer": waiting})
    joining = {"after": 0.2, "talk": None}
    call(twilio, "POST", "/emulator/devices", {"token": token("agent2"), "auto_answer": joining})
    client = rest(twilio)

    first = client.calls.create(to="client:agent1", from_="+815012345678", twiml=ROOM)
    assert wait_for_status(client, first.sid, "in-progress", 3) == "in-progress"
    time.sleep(2.0)  # alone in the conference for longer than the talk
    assert client.calls(first.sid).fetch().status == "in-progress"
    second = client.calls.create(to="client:agent2", from_="+815012345678", twiml=ROOM)
    assert wait_for_status(client, first.sid, "completed", 4) == "completed"

    legs = {leg.sid: leg for leg in twilio.emulator.calls}
    met = legs[second.sid].answered_at
    assert 0.9 <= legs[first.sid].ended_at - met <= 1.6
    truth = twilio.runner.call(twilio.emulator.conference_truth)
    assert [p["call_sid"] for p in truth[0]["participants"]] == [first.sid, second.sid]
    client.calls(second.sid).update(status="completed")


def test_bad_auto_answer_settings_are_refused(twilio):  # noqa: F811
    for auto in ({"talk": 3}, {"after": -1}, {"after": "soon"}, {"after": 1, "talk_from": "x"}):
        status, body = call(
            twilio, "POST", "/emulator/devices", {"token": token(), "auto_answer": auto}
        )
        assert status == 400, auto
        assert "auto_answer" in body["message"]


def test_a_scripted_caller_and_the_load_report(twilio):  # noqa: F811
    # The app is unreachable (port 9): the call ends with Twilio's application error, and the
    # load report shows the request as unanswered (status None).
    status, placed = call(
        twilio,
        "POST",
        "/emulator/calls",
        {"from": "+819012345678", "to": "+815012345678", "digits": "1", "patience": 30},
    )
    assert status == 201
    time.sleep(1.0)

    status, report = call(twilio, "GET", "/emulator/load-report")

    assert status == 200
    assert set(report) >= {"start", "visits", "calls", "requests", "lateness", "errors"}
    leg = next(leg for leg in report["calls"] if leg["sid"] == placed["sid"])
    assert (leg["direction"], leg["from"], leg["to"]) == (
        "inbound",
        "+819012345678",
        "+815012345678",
    )
    sids = {sid for sid, _method, _url, _status in report["requests"]}
    assert placed["sid"] in sids
    assert all(answer is None for sid, _m, _u, answer in report["requests"] if sid == placed["sid"])
    assert report["lateness"]["max"] < 5


def test_a_scripted_caller_needs_sane_values(twilio):  # noqa: F811
    for body in ({"digits": "1; DROP"}, {"patience": "long"}, {"talk_seconds": -1}):
        status, _ = call(
            twilio,
            "POST",
            "/emulator/calls",
            {"from": "+819012345678", "to": "+815012345678", **body},
        )
        assert status == 400, body
