"""<Dial><Conference> in the engine: rooms, start/end, wait music, mute, hold, coach, callbacks."""

import pytest

from emulator import Caller
from tests.emulator.urls_conference import DOCS, HITS, hits

pytestmark = pytest.mark.urls("tests.emulator.urls_conference")

AGENT = "+819011110001"
CUSTOMER = "+819022220002"
SUPERVISOR = "+819033330003"


@pytest.fixture(autouse=True)
def _clean():
    DOCS.clear()
    HITS.clear()
    yield
    DOCS.clear()
    HITS.clear()


def join(emu, to, attrs="", *, at=0.0, talk=None, dial="", name="room", answer_after=1):
    """A REST-created call to ``to`` whose TwiML puts it into conference ``name``."""
    emu.add_callee(to, Caller(answer_after=answer_after, talk_seconds=talk))
    twiml = (
        f"<Response><Dial {dial}><Conference {attrs}>{name}</Conference></Dial>"
        f"<Say>after {to}</Say></Response>"
    )
    return emu.create_call(to=to, from_="+815012345678", twiml=twiml, at=at)


EVENTS = 'statusCallback="/c/events" statusCallbackEvent="start end join leave mute hold modify"'


def test_a_lone_participant_hears_wait_music_until_a_second_joins_and_the_room_starts(emu):
    first = join(emu, AGENT, EVENTS, talk=60)
    second = join(emu, CUSTOMER, at=20, talk=90)
    emu.run(until=30)

    conference = emu.conference_named("room")
    assert conference.sid.startswith("CF") and conference.status == "in-progress"
    assert any(line.startswith("[play ") for line in first.heard())
    state = conference.state()
    assert [p["hears"] for p in state["participants"]] == [[second.sid], [first.sid]]
    emu.run()
    events = [fields["StatusCallbackEvent"] for fields in hits("events")]
    assert events == [
        "participant-join",
        "participant-join",
        "conference-start",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
    assert [int(f["SequenceNumber"]) for f in hits("events")] == [1, 2, 3, 4, 5, 6]
    end = hits("events")[-1]
    assert end["ReasonConferenceEnded"] == "last-participant-left"
    assert end["CallSidEndingConference"] == second.sid
    assert hits("events")[0]["CallSid"] == first.sid
    assert {f["FriendlyName"] for f in hits("events")} == {"room"}


def test_end_conference_on_exit_drops_everyone_who_continue_with_their_own_twiml(emu):
    agent = join(emu, AGENT, 'endConferenceOnExit="true" ' + EVENTS, talk=30, dial='action="/c/a"')
    customer = join(emu, CUSTOMER, at=2)
    emu.run()

    [agent_action] = hits("a")
    # The agent joined at 1 (answered) and hangs up at 31.
    assert agent_action["DialCallStatus"] == "completed"
    assert agent_action["DialCallDuration"] == "30"
    assert agent_action["CallSid"] == agent.sid
    assert agent.status == customer.status == "completed"
    # No action on the customer's Dial: it goes on with the verb after it.
    assert "after " + CUSTOMER in customer.heard()
    end = hits("events")[-1]
    assert end["StatusCallbackEvent"] == "conference-end"
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert end["CallSidEndingConference"] == agent.sid
    assert emu.conference_named("room") is None  # completed: the next join opens a new room


def test_a_moderated_room_waits_on_the_wait_url_twiml_until_the_moderator_joins(emu):
    DOCS["wait"] = "<Response><Say>Please wait for the host.</Say><Pause length='2'/></Response>"
    guest = join(emu, CUSTOMER, 'startConferenceOnEnter="false" waitUrl="/c/wait"', talk=100)
    other = join(emu, SUPERVISOR, 'startConferenceOnEnter="false" waitUrl=""', at=1, talk=100)
    emu.run(until=20)
    assert emu.conference_named("room").status == "init"
    host = join(emu, AGENT, "", at=20, talk=10)
    emu.run(until=40)

    assert guest.heard().count("Please wait for the host.") >= 3
    assert len(hits("wait")) >= 3
    assert other.heard() == []  # waitUrl="" is silence
    assert emu.conference_for("room").status == "in-progress"
    assert host.status == "completed"  # left; the room goes on with the two guests
    state = emu.conference_for("room").state()
    assert {p["call_sid"]: p["hears"] for p in state["participants"]} == {
        guest.sid: [other.sid],
        other.sid: [guest.sid],
    }


def test_mute_hold_and_coach_change_who_hears_whom_and_report_events(emu):
    DOCS["hold"] = "<Response><Play>/hold.mp3</Play></Response>"
    customer = join(emu, CUSTOMER, EVENTS + ' participantLabel="customer"', talk=200)
    agent = join(emu, AGENT, 'participantLabel="agent"', at=1, talk=200)
    emu.run(until=10)
    supervisor = join(emu, SUPERVISOR, f'coach="{agent.sid}" participantLabel="sup"', at=10)
    emu.run(until=20)
    conference = emu.conference_named("room")

    def hears():
        return {p["label"]: p["hears"] for p in conference.state()["participants"]}

    assert hears() == {
        "customer": [agent.sid],
        "agent": [customer.sid, supervisor.sid],  # only the agent hears the coach
        "sup": [customer.sid, agent.sid],
    }
    emu.update_participant(conference.participant("customer"), hold=True, hold_url="/c/hold")
    emu.run(until=30)
    assert hears()["customer"] == [] and customer.sid not in hears()["agent"]
    assert "[play http://testserver/hold.mp3]" in customer.heard()
    assert hits("hold") and "CallSid" in hits("hold")[0]  # GET by default, signed
    emu.update_participant(conference.participant("customer"), hold=False)
    emu.update_participant(conference.participant("agent"), muted=True)
    emu.update_participant(conference.participant("sup"), coaching=False)  # barge
    emu.run(until=40)
    assert hears() == {
        "customer": [supervisor.sid],
        "agent": [customer.sid, supervisor.sid],
        "sup": [customer.sid],
    }
    events = [(f["StatusCallbackEvent"], f.get("ParticipantLabel")) for f in hits("events")]
    assert events[-4:] == [
        ("participant-hold", "customer"),
        ("participant-unhold", "customer"),
        ("participant-mute", "agent"),
        ("participant-modify", "sup"),
    ]
    assert hits("events")[-1]["Coaching"] == "false"
    assert hits("events")[-2]["Muted"] == "true"


def test_max_participants_refuses_the_next_caller_and_its_dial_action_gets_failed(emu):
    join(emu, AGENT, 'maxParticipants="2"', talk=50)
    join(emu, CUSTOMER, talk=50, at=1)
    third = join(emu, SUPERVISOR, dial='action="/c/full"', at=5)
    emu.run()

    assert hits("full")[0]["DialCallStatus"] == "failed"
    assert third.status == "completed"


def test_a_recorded_conference_produces_a_recording_with_a_status_callback(emu):
    join(emu, AGENT, 'record="record-from-start" recordingStatusCallback="/c/rec"', talk=31)
    join(emu, CUSTOMER, talk=60, at=0)
    emu.run()

    [fields] = hits("rec")
    assert fields["RecordingStatus"] == "completed"
    assert fields["RecordingDuration"] == "60"  # started at 1 (both answered), ended at 61
    recording = emu.recordings[fields["RecordingSid"]]
    assert recording["conference_sid"] == emu.conference_for("room").sid


def test_hangup_on_star_takes_a_live_caller_out_to_its_next_twiml(emu):
    from emulator.devices import press_keys

    emu.add_callee(AGENT, Caller(answer_after=1, live=True))
    leg = emu.create_call(
        to=AGENT,
        from_="+815012345678",
        twiml='<Response><Dial hangupOnStar="true" action="/c/star">'
        "<Conference>room</Conference></Dial></Response>",
    )
    join(emu, CUSTOMER, talk=100)
    emu.run(until=10)
    press_keys(leg, "1")
    emu.run(until=11)
    assert not hits("star")
    press_keys(leg, "*")
    emu.run(until=20)

    assert hits("star")[0]["DialCallDuration"] == "10"  # joined at 1, * at 11
    assert [p.call_sid for p in emu.conference_for("room").participants.values()] != [leg.sid]


def test_in_process_rest_announces_kicks_the_last_participant_and_lists_by_status(emu, rest):
    DOCS["announce"] = "<Response><Say>The supervisor joins.</Say></Response>"
    customer = join(emu, CUSTOMER, EVENTS, talk=300)
    agent = join(emu, AGENT, talk=300)
    emu.run(until=5)
    conference = emu.conference_named("room")
    live = rest.conferences.list(status="in-progress")

    rest.conferences(conference.sid).update(announce_url="http://testserver/c/announce")
    rest.conferences(conference.sid).participants(agent.sid).delete()
    emu.run(until=10)
    rest.conferences(conference.sid).participants(customer.sid).delete()
    emu.run(until=20)

    assert [c.sid for c in live] == [conference.sid]
    assert "The supervisor joins." in customer.heard()
    assert "The supervisor joins." in agent.heard()
    assert "after " + AGENT in agent.heard()  # out of the room, on to its next verb
    assert rest.conferences(conference.sid).fetch().status == "completed"
    end = hits("events")[-1]
    assert (end["StatusCallbackEvent"], end["ReasonConferenceEnded"]) == (
        "conference-end",
        "last-participant-kicked",
    )
    assert rest.conferences.list(status="in-progress") == []


def test_participants_create_rings_an_agents_softphone_into_the_callers_room(emu, rest):
    emu.add_agent("agent1", answer_after=3, talk_seconds=None)
    customer = join(emu, CUSTOMER, 'startConferenceOnEnter="false"', talk=100)
    emu.run(until=2)
    created = rest.conferences("room").participants.create(
        from_="+815012345678", to="client:agent1", label="agent", end_conference_on_exit=True
    )
    ringing = rest.conferences("room").participants("agent").fetch().status
    emu.run(until=10)

    assert ringing in ("queued", "ringing")
    state = emu.conference_named("room").state()
    assert {p["label"] or p["call_sid"]: p["address"] for p in state["participants"]} == {
        customer.sid: customer.sid,
        "agent": "client:agent1",
    }
    assert state["status"] == "in-progress"
    assert rest.conferences("room").participants("agent").fetch().call_sid == created.call_sid
