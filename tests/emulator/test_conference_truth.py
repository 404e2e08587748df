"""The emulator's ground truth of conferences (``emu.conference_truth()``): who was in each
room from when to when, each participant's holds on the virtual clock, how each left, and
where one moved out by a REST redirect went next."""

import pytest

from tests.emulator.test_conference import AGENT, CUSTOMER, SUPERVISOR, _clean, join  # noqa: F401
from tests.emulator.urls_conference import DOCS

pytestmark = pytest.mark.urls("tests.emulator.urls_conference")


def _by_sid(truth, sid):
    [participant] = [p for c in truth for p in c["participants"] if p["call_sid"] == sid]
    return participant


def test_holds_moves_and_how_each_left_are_the_ground_truth(emu, rest):
    DOCS["next"] = "<Response><Enqueue>billing</Enqueue></Response>"
    agent = join(emu, AGENT, talk=None)  # answers at 1, joins the room
    customer = join(emu, CUSTOMER, at=1)  # joins at 2
    colleague = join(emu, SUPERVISOR, at=5)  # joins at 6
    emu.run(until=10)
    room = emu.conference_named("room")
    emu.update_participant(room.participant(customer.sid), hold=True)
    emu.run(until=16)
    emu.update_participant(room.participant(customer.sid), hold=False)
    emu.run(until=18)
    rest.conferences(room.sid).participants(agent.sid).delete()  # taken out: kicked
    emu.run(until=20)
    emu.update_participant(room.participant(customer.sid), hold=True)
    emu.run(until=25)
    rest.calls(customer.sid).update(url="http://testserver/c/next")  # moved out, on hold
    emu.run(until=30)
    emu.hangup(colleague)
    emu.hangup(customer)
    emu.run(until=35)

    [conference] = emu.conference_truth()
    assert conference["friendly_name"] == "room" and conference["ended_at"] == 30
    assert [p["call_sid"] for p in conference["participants"]] == [
        agent.sid,
        customer.sid,
        colleague.sid,
    ]
    truth = emu.conference_truth()
    held = _by_sid(truth, customer.sid)
    assert held["holds"] == [(10, 16), (20, 25)] and held["hold_seconds"] == 11
    assert (held["joined_at"], held["left_at"], held["seconds"]) == (2, 25, 23)
    assert held["left_how"] == "redirected" and held["then"] == ("enqueue", "billing")
    assert _by_sid(truth, agent.sid)["left_how"] == "kicked"
    assert _by_sid(truth, agent.sid)["then"] is None
    assert _by_sid(truth, colleague.sid)["left_how"] == "hangup"
    assert _by_sid(truth, colleague.sid)["holds"] == []
