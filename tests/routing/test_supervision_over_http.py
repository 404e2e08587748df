"""Listen, whisper and barge with the local Twilio served over HTTP (real clock), the app on a
live server and a background worker, the demo data as `make run` seeds it: a caller dials the
demo number through the scripting API and presses 1, agent1's emulated softphone accepts the
pushed call, and the demo supervisor, from the team view's endpoints, is rung on their own
emulated softphone into the call. After every step GET /emulator/conferences/<name> says who
hears whom; leaving leaves the caller and agent1 talking; the session is a Monitoring row."""

import json
import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.services import agent_choose_status, agent_report_device
from agents.softphone import access_token_for
from routing.models import Bridge, Monitoring, MonitoringMode

from . import test_browser_push
from .test_browser_push import CALLER_NUMBER, DEMO_NUMBER

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

local_twilio = test_browser_push.local_twilio  # the local Twilio over HTTP, the demo seeded
worker = test_browser_push.worker  # manage.py worker's loop in a thread


def scripting(twilio, method, path, body=None):
    """A request to the local Twilio's scripting API (what its phone page and softphones use)."""
    request = urllib.request.Request(
        twilio.url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None


def until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Softphone:
    """An emulated softphone registered with the app's own access token, as the desk does."""

    def __init__(self, twilio, agent: Agent):
        self.twilio = twilio
        self.id = scripting(
            twilio, "POST", "/emulator/devices", {"token": access_token_for(agent)}
        )["id"]
        agent_report_device(agent=agent, registered=True, now=timezone.now())

    def next_incoming(self, timeout=30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            path = f"/emulator/devices/{self.id}/events?wait=5"
            for event in scripting(self.twilio, "GET", path)["events"]:
                if event["type"] == "incoming":
                    return event["call"]
        raise AssertionError("the softphone never rang")

    def accept(self, sid: str) -> None:
        scripting(self.twilio, "POST", f"/emulator/devices/{self.id}/calls/{sid}/accept")


def conference(twilio, name) -> dict:
    return scripting(twilio, "GET", f"/emulator/conferences/{name}")


def hears(state: dict) -> dict[str, set[str]]:
    """call SID → the SIDs it hears, for the participants still in the conference."""
    return {p["call_sid"]: set(p["hears"]) for p in state["participants"]}


def conference_started(twilio, name) -> bool:
    """Whether the conference exists yet (the caller joins it after the connect message)."""
    try:
        urllib.request.urlopen(f"{twilio.url}/emulator/conferences/{name}", timeout=10).close()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise
    return True


def demo_client(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def connected(local_twilio, worker):
    """agent1 (available, softphone registered) talking to a caller who pressed 1; the
    supervisor's softphone registered. → (caller SID, agent1's leg SID, bridge, phones)."""
    agent1 = Agent.objects.get(identity="agent1")
    agent1_phone = Softphone(local_twilio, agent1)
    agent_choose_status(agent=agent1, status=AgentStatus.AVAILABLE, now=timezone.now())
    supervisor_phone = Softphone(local_twilio, Agent.objects.get(identity="supervisor"))

    caller = scripting(
        local_twilio, "POST", "/emulator/calls", {"to": DEMO_NUMBER, "from": CALLER_NUMBER}
    )
    sid = caller["sid"]
    until(
        lambda: scripting(local_twilio, "GET", f"/emulator/calls/{sid}")["gathering"], what="menu"
    )
    scripting(local_twilio, "POST", f"/emulator/calls/{sid}/digits", {"digits": "1"})
    agent1_phone.accept(agent1_phone.next_incoming())
    bridge = until(lambda: Bridge.objects.filter(visit__call__sid=sid).first(), what="bridge")
    agent_sid = bridge.offer.agent_call_sid
    until(
        lambda: (
            conference_started(local_twilio, bridge.friendly_name)
            and hears(conference(local_twilio, bridge.friendly_name)).get(sid) == {agent_sid}
        ),
        what="the caller hearing agent1",
    )
    return sid, agent_sid, bridge, agent1_phone, supervisor_phone


def test_the_demo_supervisor_listens_whispers_barges_and_leaves_over_http(local_twilio, connected):
    caller_sid, agent_sid, bridge, agent1_phone, supervisor_phone = connected
    name = bridge.friendly_name
    team = demo_client("supervisor")
    agent1 = Agent.objects.get(identity="agent1")
    before = timezone.now()

    # Listen: the team view's button rings the supervisor's softphone; they accept.
    started = team.post(f"/supervisor/monitor/{agent1.pk}", {"mode": "listen"})
    assert started.status_code == 200, started.content
    sup_sid = supervisor_phone.next_incoming()
    supervisor_phone.accept(sup_sid)
    until(lambda: sup_sid in hears(conference(local_twilio, name)), what="the supervisor's leg")
    state = hears(conference(local_twilio, name))
    assert state[sup_sid] == {caller_sid, agent_sid}  # hears both
    assert state[caller_sid] == {agent_sid} and state[agent_sid] == {caller_sid}  # nobody them
    until(lambda: Monitoring.objects.get().answered_at, what="the answered status callback")
    live = team.get("/supervisor/team/live").json()["monitoring"]
    assert (live["agent"], live["mode"], live["answered"]) == ("agent1", "listen", True)

    # Whisper: only agent1 hears the supervisor (and the team page, reloaded, says whisper).
    assert team.post("/supervisor/monitor/mode", {"mode": "whisper"}).status_code == 200
    page = team.get("/supervisor/team/").content.decode()
    assert 'class="btn btn-outline-primary active" data-mode="whisper"' in page
    assert 'class="btn btn-outline-primary active" data-mode="listen"' not in page
    state = hears(conference(local_twilio, name))
    assert state[agent_sid] == {caller_sid, sup_sid}
    assert state[caller_sid] == {agent_sid}
    assert state[sup_sid] == {caller_sid, agent_sid}

    # Barge: everyone hears everyone.
    assert team.post("/supervisor/monitor/mode", {"mode": "barge"}).status_code == 200
    state = hears(conference(local_twilio, name))
    assert state[caller_sid] == {agent_sid, sup_sid}
    assert state[agent_sid] == {caller_sid, sup_sid}
    assert state[sup_sid] == {caller_sid, agent_sid}

    # Back to listening: silent again.
    assert team.post("/supervisor/monitor/mode", {"mode": "listen"}).status_code == 200
    state = hears(conference(local_twilio, name))
    assert state[caller_sid] == {agent_sid} and state[agent_sid] == {caller_sid}

    # Leave: the supervisor's leg is gone, the caller and agent1 go on talking.
    assert team.post("/supervisor/monitor/leave").json() == {"monitoring": None}
    until(lambda: sup_sid not in hears(conference(local_twilio, name)), what="the supervisor gone")
    time.sleep(2)  # nothing else follows the supervisor out
    room = conference(local_twilio, name)
    assert room["status"] == "in-progress"
    assert hears(room) == {caller_sid: {agent_sid}, agent_sid: {caller_sid}}
    caller = scripting(local_twilio, "GET", f"/emulator/calls/{caller_sid}")
    assert caller["status"] == "in-progress" and caller["connected_to"] == ["client:agent1"]
    assert scripting(local_twilio, "GET", f"/emulator/calls/{sup_sid}")["status"] == "completed"
    assert Bridge.objects.get(pk=bridge.pk).ended_at is None
    assert Agent.objects.get(identity="agent1").status == AgentStatus.ON_CALL
    assert team.get("/supervisor/team/live").json()["monitoring"] is None

    # The session as kept: who, whom, which call, when, every mode in order.
    monitoring = Monitoring.objects.get()
    assert monitoring.supervisor.username == "supervisor"
    assert monitoring.supervisor_agent.identity == "supervisor"
    assert monitoring.agent == agent1 and monitoring.bridge_id == bridge.pk
    assert monitoring.call_sid == sup_sid
    assert monitoring.mode == MonitoringMode.LISTEN
    assert [change["mode"] for change in monitoring.mode_changes] == [
        "listen",
        "whisper",
        "barge",
        "listen",
    ]
    moments = [datetime.fromisoformat(change["at"]) for change in monitoring.mode_changes]
    assert moments == sorted(moments) and moments[0] == monitoring.started_at
    assert before <= monitoring.started_at <= monitoring.answered_at <= monitoring.ended_at
    assert monitoring.ended_at <= timezone.now()


@pytest.mark.parametrize("username", ["agent1", "analyst"])
def test_the_demo_agent_and_analyst_get_403_from_the_supervisor_endpoints(
    local_twilio, connected, username
):
    agent1 = Agent.objects.get(identity="agent1")
    client = demo_client(username)

    assert client.get("/supervisor/team/").status_code == 403
    assert client.get("/supervisor/team/live").status_code == 403
    for url in (f"/supervisor/monitor/{agent1.pk}", "/supervisor/monitor/mode"):
        assert client.post(url, {"mode": "listen"}).status_code == 403
    assert client.post("/supervisor/monitor/leave").status_code == 403
    assert not Monitoring.objects.exists()
    bridge = connected[2]
    assert len(conference(local_twilio, bridge.friendly_name)["participants"]) == 2
