"""The local Twilio's emulated softphones through its scripting API: tokens checked as Twilio
does, incoming calls that ring until accepted or rejected, events by long poll."""

import json
import time
import urllib.error
import urllib.request

import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.rest import Client

from emulator.server import LocalTwilio
from telephony.client import RebasedHttpClient
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

API_KEY_SID = "SK" + "5" * 32
API_KEY_SECRET = "api-key-secret"
APP_SID = "AP" + "6" * 32


@pytest.fixture
def twilio():
    local = LocalTwilio(
        app_url="http://127.0.0.1:9",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_key_sid=API_KEY_SID,
        api_key_secret=API_KEY_SECRET,
        twiml_app_sid=APP_SID,
        calls_per_second=None,
    ).serve("127.0.0.1", 0)
    yield local
    local.stop()


def token(identity="agent1", *, secret=API_KEY_SECRET, ttl=3600):
    access = AccessToken(ACCOUNT_SID, API_KEY_SID, secret, identity=identity, ttl=ttl)
    access.add_grant(VoiceGrant(outgoing_application_sid=APP_SID, incoming_allow=True))
    jwt = access.to_jwt()
    return jwt.decode() if isinstance(jwt, bytes) else jwt


def call(twilio, method, path, body=None):
    request = urllib.request.Request(
        twilio.url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def events(twilio, device, wait=10):
    status, body = call(twilio, "GET", f"/emulator/devices/{device}/events?wait={wait}")
    assert status == 200
    return [(event["type"], event["call"]) for event in body["events"]]


@pytest.mark.parametrize(
    ("made", "code"),
    [
        (lambda: token(secret="not-the-secret"), 20107),
        (lambda: token(ttl=-10), 20104),
        (lambda: "not.a.token", 20101),
    ],
)
def test_a_device_with_a_bad_token_is_refused_with_twilios_code(twilio, made, code):
    status, body = call(twilio, "POST", "/emulator/devices", {"token": made()})

    assert (status, body["code"]) == (401, code)


def test_a_call_to_the_client_rings_the_device_until_it_accepts(twilio):
    status, device = call(twilio, "POST", "/emulator/devices", {"token": token()})
    assert (status, device["identity"]) == (201, "agent1")
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url))

    created = rest.calls.create(
        to="client:agent1", from_="+815012345678", twiml="<Response><Pause length='1'/></Response>"
    )
    assert events(twilio, device["id"]) == [("incoming", created.sid)]
    time.sleep(1)
    still_ringing = rest.calls(created.sid).fetch().status
    status, _ = call(twilio, "POST", f"/emulator/devices/{device['id']}/calls/{created.sid}/accept")

    assert (still_ringing, status) == ("ringing", 200)
    seen = events(twilio, device["id"])
    while len(seen) < 2:
        seen += events(twilio, device["id"])
    assert seen == [("accept", created.sid), ("disconnect", created.sid)]
    assert rest.calls(created.sid).fetch().status == "completed"


def test_a_rejected_call_ends_busy_and_an_unregistered_identity_is_not_rung(twilio):
    _, device = call(twilio, "POST", "/emulator/devices", {"token": token()})
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RebasedHttpClient(twilio.url))
    created = rest.calls.create(to="client:agent1", from_="+815012345678", twiml="<Response/>")
    assert events(twilio, device["id"]) == [("incoming", created.sid)]

    call(twilio, "POST", f"/emulator/devices/{device['id']}/calls/{created.sid}/reject")
    time.sleep(0.5)
    status, _ = call(twilio, "DELETE", f"/emulator/devices/{device['id']}")
    later = rest.calls.create(
        to="client:agent1", from_="+815012345678", twiml="<Response/>", timeout=1
    )
    time.sleep(2.5)

    assert rest.calls(created.sid).fetch().status == "busy"
    assert status == 204
    assert rest.calls(later.sid).fetch().status == "no-answer"
