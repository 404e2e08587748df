"""A hold lasts what Twilio says: the desk asks (its request is dated by the server's clock),
and the bridge's conference reports participant-hold / -unhold / -leave with Twilio's
Timestamp, which becomes the hold's start and end. Through the local Twilio in process, whose
virtual clock runs far ahead of the server's: a desk-dated hold would last about nothing."""

import pytest

from queues.models import Queue
from routing.models import Hold

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def _caller_holds(emu, leg) -> list[float]:
    """The seconds the emulator held the caller, hold by hold."""
    return [
        end - start
        for conference in emu.conference_truth()
        for participant in conference["participants"]
        if participant["call_sid"] == leg.sid
        for start, end in participant["holds"]
    ]


def _desk(client, agent, action, **data):
    client.force_login(agent.user)
    response = client.post(f"/agent/call/{action}", data)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_hold_from_the_desk_lasts_the_seconds_twilio_held_the_caller(emu, client):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)

    assert _desk(client, agent, "hold") == {"on_hold": True}
    run(emu, 15)
    assert _desk(client, agent, "resume") == {"on_hold": False}
    run(emu, 4)
    assert _desk(client, agent, "hold") == {"on_hold": True}
    run(emu, 6)
    _desk(client, agent, "resume")
    run(emu, 3)
    emu.hangup(leg)
    run(emu, 5)

    assert _caller_holds(emu, leg) == [15, 6]
    assert [hold.seconds for hold in Hold.objects.order_by("started_at")] == [15, 6]
    bridge.refresh_from_db()
    assert bridge.hold_seconds == 21


def test_a_caller_who_hangs_up_on_hold_was_held_until_twilio_saw_them_leave(emu, client):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)

    _desk(client, agent, "hold")
    run(emu, 9)
    emu.hangup(leg)
    run(emu, 5)

    assert _caller_holds(emu, leg) == [9]
    [hold] = Hold.objects.all()
    assert hold.seconds == 9
    bridge.refresh_from_db()
    assert bridge.hold_seconds == 9 and bridge.ended_at is not None


def test_a_caller_transferred_while_on_hold_was_held_until_leaving_the_conference(emu, client):
    billing = Queue.objects.create(slug="billing", name="Billing", routing_mode="push")
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)

    _desk(client, agent, "hold")
    run(emu, 7)
    assert _desk(client, agent, "transfer", queue=billing.slug)["transferred"] == "queue"
    run(emu, 3)
    emu.hangup(leg)
    run(emu, 3)

    assert _caller_holds(emu, leg) == [7]
    [hold] = Hold.objects.all()
    assert hold.seconds == 7
    bridge.refresh_from_db()
    assert bridge.hold_seconds == 7


def test_events_about_the_agent_or_another_call_change_no_hold(emu, client):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    agent_sid = bridge.offer.agent_call_sid

    emu.update_participant(conference.participant(agent_sid), hold=True)
    run(emu, 5)
    emu.update_participant(conference.participant(agent_sid), hold=False)
    run(emu, 1)

    assert not Hold.objects.exists()
