import pytest

from emulator import Caller
from tests.emulator.conftest import NUMBER, requests_to

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


def _queue_number(emu):
    emu.add_number(NUMBER, voice_url="/t/queue-me", status_callback="/t/status")


def test_three_callers_hear_their_own_positions_and_move_up(emu, received):
    _queue_number(emu)
    calls = [
        emu.place_call(to=NUMBER, from_=f"+81901111000{i}", caller=Caller(patience=p), at=i)
        for i, p in enumerate([40, 200, 200])
    ]
    emu.run(until=100)

    firsts = [requests_to(call, "/t/wait")[0][1] for call in calls]
    assert [f["QueuePosition"] for f in firsts] == ["1", "2", "3"]
    assert [f["CurrentQueueSize"] for f in firsts] == ["1", "2", "3"]
    assert {f["QueueSid"] for f in firsts} == {emu.queues["support"].sid}
    assert all(f["MaxQueueSize"] == "1000" for f in firsts)
    assert firsts[2]["AvgQueueTime"] == "1"  # waits 2, 1, 0 at t=3
    # The first caller gives up after 40 s; the third caller's next pass says position 2.
    later_at, later = [(at, f) for at, f in requests_to(calls[2], "/t/wait") if at > 41][0]
    assert later["QueuePosition"] == "2"
    assert later["CurrentQueueSize"] == "2"
    assert int(later["QueueTime"]) == later_at - 3  # enqueued at 2 + 1 s of "Please hold."
    assert "You are number 3." in calls[2].heard()


def test_leave_in_wait_twiml_requests_the_action_at_once_and_continues_the_call(emu, received):
    _queue_number(emu)
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    [(at, fields)] = requests_to(call, "/t/exit")
    assert fields["QueueResult"] == "leave"
    # passes of 1 s say + 30 s music from t=1: the wait request at QueueTime 124 leaves
    assert fields["QueueTime"] == "124"
    assert at == 1 + 124
    assert call.heard()[-1] == "Sorry, nobody can take your call."
    assert emu.ground_truth()[0]["result"] == "leave"
    assert emu.ground_truth()[0]["wait_seconds"] == 124


def test_a_full_queue_refuses_the_caller_without_queue_fields(emu, received, rest):
    _queue_number(emu)
    rest.queues.create(friendly_name="support", max_size=2)
    calls = [emu.place_call(to=NUMBER, from_=f"+8190111100{i}", at=i, caller=Caller(patience=30))
             for i in range(3)]  # fmt: skip
    emu.run()

    [(at, fields)] = requests_to(calls[2], "/t/exit")
    assert fields["QueueResult"] == "queue-full"
    assert "QueueSid" not in fields and "QueueTime" not in fields
    assert at == 2 + 1  # at once, right after "Please hold."
    assert requests_to(calls[2], "/t/wait") == []
    assert calls[2].heard()[-1] == "Sorry, nobody can take your call."
    assert [v["result"] for v in emu.ground_truth()] == ["hangup", "hangup", "queue-full"]


def test_an_agent_dialling_an_empty_queue_gives_up_after_the_dial_timeout(emu, received):
    emu.add_queue("support")
    agent = emu.agent_dial("agent1", to="queue:support", at=10)
    emu.run()

    [(at, fields)] = requests_to(agent, "/t/dial-action")
    assert at == 10 + 20
    assert fields["DialCallStatus"] == "no-answer"
    assert fields["DialCallDuration"] == "0"
    assert agent.status == "completed"


def test_an_agent_waiting_on_an_empty_queue_takes_the_first_caller_who_arrives(emu, received):
    _queue_number(emu)
    emu.add_queue("support")
    agent = emu.agent_dial("agent1", to="queue:support", at=0, talk_seconds=30)
    call = emu.place_call(to=NUMBER, from_="+819011112222", at=5)
    emu.run()

    [(connect_at, connect)] = requests_to(call, "/t/connect")
    assert connect_at == 5 + 1  # enqueued after "Please hold."
    assert connect["DequeingCallSid"] == agent.sid
    assert connect["QueueTime"] == "0"
    [(_, dial)] = requests_to(agent, "/t/dial-action")
    assert dial["DialCallStatus"] == "completed"
    assert dial["DialCallSid"] == call.sid
    assert dial["DialCallDuration"] == "30"


def test_the_agent_takes_the_front_caller_and_the_queue_url_runs_on_the_callers_leg(emu, received):
    _queue_number(emu)
    first = emu.place_call(to=NUMBER, from_="+819011110001", at=0)
    second = emu.place_call(to=NUMBER, from_="+819011110002", at=3)
    agent = emu.agent_dial("agent1", to="queue:support", at=30, talk_seconds=45)
    emu.run(until=200)

    [(at, fields)] = requests_to(first, "/t/connect")
    assert at == 30
    assert fields["CallSid"] == first.sid
    assert fields["QueueTime"] == "29"
    assert fields["DequeingCallSid"] == agent.sid
    assert "Connecting you to an agent." in first.heard()
    assert requests_to(second, "/t/connect") == []
    assert requests_to(agent, "/t/connect") == []


def test_each_enqueue_action_fires_at_twilios_moment(emu, received, rest):
    _queue_number(emu)
    bridged = emu.place_call(
        to=NUMBER, from_="+819011110001", at=0, caller=Caller(talk_seconds=500)
    )
    abandoned = emu.place_call(to=NUMBER, from_="+819011110002", at=1, caller=Caller(patience=20))
    redirected = emu.place_call(to=NUMBER, from_="+819011110003", at=2)
    agent = emu.agent_dial("agent1", to="queue:support", at=10, talk_seconds=60)
    emu.run(until=50)
    rest.queues(emu.queues["support"].sid).members(redirected.sid).update(
        url="http://testserver/t/fallback", method="POST"
    )
    emu.run()

    def exit_of(call):
        [(at, fields)] = requests_to(call, "/t/exit")
        return at, fields["QueueResult"], fields["QueueTime"]

    # bridged: only when the bridged parties disconnect (connected at 12, agent talks 60 s)
    assert exit_of(bridged) == (10 + 2 + 60, "bridged", "9")
    # hangup: at once when the caller gives up (enqueued at 2, patience 20 s)
    assert exit_of(abandoned) == (2 + 20, "hangup", "20")
    # redirected: at once, when the REST member update moved it
    assert exit_of(redirected) == (50, "redirected", "47")
    assert redirected.heard()[-1] == "Fallback speaking."
    [(dial_at, dial)] = requests_to(agent, "/t/dial-action")
    assert dial_at == 72
    truth = {v["call_sid"]: v for v in emu.ground_truth()}
    assert truth[bridged.sid]["talk_seconds"] == 60
    assert truth[bridged.sid]["agent"] == "agent1"
    assert truth[abandoned.sid]["result"] == "hangup"


def test_a_caller_hanging_up_while_bridged_fires_the_action_and_ends_the_agents_dial(emu, received):
    _queue_number(emu)
    call = emu.place_call(to=NUMBER, from_="+819011110001", caller=Caller(talk_seconds=25))
    agent = emu.agent_dial("agent1", to="queue:support", at=10, talk_seconds=None)
    emu.run()

    [(at, fields)] = requests_to(call, "/t/exit")
    assert (at, fields["QueueResult"]) == (10 + 2 + 25, "bridged")
    [(dial_at, dial)] = requests_to(agent, "/t/dial-action")
    assert dial_at == at
    assert dial["DialCallDuration"] == "25"
    assert call.status == agent.status == "completed"
    assert call.duration == 37


def test_a_recorded_dial_reports_the_recording_to_the_action_and_the_status_callback(emu, received):
    _queue_number(emu)
    emu.configure_client_app(
        voice_url="/t/agent?record=record-from-answer-dual", status_callback="/t/status"
    )
    emu.place_call(to=NUMBER, from_="+819011110001")
    agent = emu.agent_dial("agent1", to="queue:support", at=10, talk_seconds=42)
    emu.run()

    [(_, dial)] = requests_to(agent, "/t/dial-action")
    assert dial["RecordingDuration"] == "42"
    assert dial["RecordingSid"].startswith("RE")
    [(_, status)] = requests_to(agent, "/t/recording-status")
    assert (status["RecordingSid"], status["RecordingChannels"]) == (dial["RecordingSid"], "2")
    [(_, final)] = requests_to(agent, "/t/status")
    assert final["RecordingUrl"] == dial["RecordingUrl"]


def test_an_agent_who_takes_the_queue_serves_callers_one_after_the_other(emu, received):
    _queue_number(emu)
    emu.add_agent("agent1", answer_after=5, talk_seconds=30, takes_queues=("support",))
    first = emu.place_call(to=NUMBER, from_="+819011110001", at=0)
    second = emu.place_call(to=NUMBER, from_="+819011110002", at=2)
    emu.run()

    truth = {visit["call_sid"]: visit for visit in emu.ground_truth()}
    # enqueued at 1 and 3; the agent dials at 6, talks 2 s of connect message + 30 s,
    # is free at 38 and dials again at 43.
    assert (truth[first.sid]["wait_seconds"], truth[first.sid]["talk_seconds"]) == (5, 30)
    assert (truth[second.sid]["wait_seconds"], truth[second.sid]["talk_seconds"]) == (40, 30)
    assert {truth[first.sid]["agent"], truth[second.sid]["agent"]} == {"agent1"}
    agent_legs = [call for call in emu.calls if call.from_ == "client:agent1"]
    assert [leg.requests[0][0] for leg in agent_legs] == [6, 43]


def test_a_caller_hanging_up_after_a_while_leaves_the_queue_as_hangup(emu, received):
    _queue_number(emu)
    call = emu.place_call(to=NUMBER, from_="+819011110001", at=0, caller=Caller(hangup_after=50))
    emu.run()

    [(at, fields)] = requests_to(call, "/t/exit")
    assert (at, fields["QueueResult"], fields["QueueTime"]) == (50, "hangup", "49")
    assert call.duration == 50
